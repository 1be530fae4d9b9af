"""Benchmarks of msgflash_async against hand-written aiohttp and httpx clients.

Run them with ``python -m benchmarks`` (``--quick`` for a smoke run, ``--help`` for the
options). A lean aiohttp server with pre-built answers runs in a separate process, so what is
measured is the client; every case compares the SDK with raw code doing the same work in the
same run, and the results land in ``benchmarks/results/latest.json``.
"""
