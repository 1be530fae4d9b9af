"""Medians, SDK/baseline ratios, targets, the printed table and the JSON document."""

from __future__ import annotations

import statistics
from typing import Any

import attrs

from ._runner import Runs

__all__ = ["check_targets", "render", "summarize"]


@attrs.frozen
class _Metric:
    name: str
    label: str
    ratio: bool = True
    """Whether an SDK/baseline ratio means something for this metric."""


@attrs.frozen
class _View:
    """How one case shows: its title and which client is compared with which."""

    title: str
    subject: str
    baseline: str
    other: str | None
    metrics: tuple[_Metric, ...]


_REQUESTS = (
    _Metric("requests_per_s", "requests/s"),
    _Metric("cpu_us_per_request", "client CPU µs/request"),
)
_STREAM = (
    _Metric("members_per_s", "members/s"),
    _Metric("cpu_us_per_member", "client CPU µs/member"),
    _Metric("peak_rss_mib_at_checkpoint", "peak RSS MiB, first checkpoint", ratio=False),
    _Metric("rss_mib_at_checkpoint", "RSS MiB, first checkpoint", ratio=False),
    _Metric("peak_rss_mib_at_end", "peak RSS MiB, end", ratio=False),
    _Metric("rss_mib_at_end", "RSS MiB, end", ratio=False),
    _Metric("peak_rss_growth_mib", "peak RSS growth MiB", ratio=False),
)
_DECODE = (_Metric("us_per_contact", "µs/contact"),)


def _view(case: str) -> _View:
    if case.startswith("get_c"):
        title = f"get, concurrency {case[5:]} (sdk, aiohttp, httpx)"
        return _View(title, "sdk", "aiohttp", "httpx", _REQUESTS)
    if case.startswith("import_c"):
        title = f"import (create), concurrency {case[8:]} (sdk, aiohttp)"
        return _View(title, "sdk", "aiohttp", None, _REQUESTS)
    if case == "stream":
        return _View("stream members (sdk, aiohttp)", "sdk", "aiohttp", None, _STREAM)
    if case == "decode":
        title = "decode (sdk model, hand-written, orjson dict)"
        return _View(title, "sdk_model", "hand_written", "orjson_dict", _DECODE)
    raise ValueError(f"unknown case {case!r}")


def _paired_ratio(subject: list[float], baseline: list[float]) -> float | None:
    """The median over repeats of subject/baseline, each repeat paired with its own."""
    ratios = [a / b for a, b in zip(subject, baseline, strict=True) if b]
    return statistics.median(ratios) if ratios else None


def summarize(runs: Runs) -> dict[str, Any]:
    """Per case: every client's runs and medians, and the SDK's ratios to the others."""
    cases: dict[str, Any] = {}
    for case, clients in runs.items():
        view = _view(case)
        ratios: dict[str, dict[str, float | None]] = {}
        for metric in view.metrics:
            if not metric.ratio:
                continue
            subject = clients[view.subject][metric.name]
            ratios[metric.name] = {
                f"{view.subject}/{other}": _paired_ratio(subject, clients[other][metric.name])
                for other in (view.baseline, view.other)
                if other is not None
            }
        cases[case] = {
            "title": view.title,
            "clients": {
                client: {
                    name: {"median": statistics.median(values), "runs": values}
                    for name, values in metrics.items()
                }
                for client, metrics in clients.items()
            },
            "ratios": ratios,
        }
    return cases


@attrs.frozen
class _Target:
    name: str
    case: str
    metric: str
    ratio_to: str | None
    """The client the SDK is divided by, or ``None`` to judge the SDK's own value."""
    threshold: float
    at_least: bool


_TARGETS = (
    _Target("get c=64: SDK >= 0.90x raw aiohttp req/s", "get_c64", "requests_per_s",
            ratio_to="aiohttp", threshold=0.90, at_least=True),
    _Target("get c=1: SDK >= 0.85x raw aiohttp req/s", "get_c1", "requests_per_s",
            ratio_to="aiohttp", threshold=0.85, at_least=True),
    _Target("stream: SDK >= 0.90x raw members/s", "stream", "members_per_s",
            ratio_to="aiohttp", threshold=0.90, at_least=True),
    _Target("stream: SDK peak RSS growth < 10 MiB", "stream", "peak_rss_growth_mib",
            ratio_to=None, threshold=10.0, at_least=False),
    _Target("get c=64: SDK >= 10x httpx req/s", "get_c64", "requests_per_s",
            ratio_to="httpx", threshold=10.0, at_least=True),
)  # fmt: skip
"""The targets of issue #6."""


def check_targets(cases: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue #6 whose case ran, with the measured value and PASS or MISS."""
    results = []
    for target in _TARGETS:
        if target.case not in cases:
            continue
        case = cases[target.case]
        if target.ratio_to is None:
            value = case["clients"]["sdk"][target.metric]["median"]
        else:
            value = case["ratios"][target.metric][f"sdk/{target.ratio_to}"]
        passed = value is not None and (
            value >= target.threshold if target.at_least else value < target.threshold
        )
        results.append(
            {"name": target.name, "value": value, "threshold": target.threshold, "passed": passed}
        )
    return results


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _row(view: _View, metric: _Metric, summary: dict[str, Any]) -> str:
    clients, ratios = summary["clients"], summary["ratios"].get(metric.name)
    cells = [view.title, metric.label, _number(clients[view.subject][metric.name]["median"])]
    for client in (view.baseline, view.other):
        if client is None:
            cells += ["", ""]
            continue
        cells.append(_number(clients[client][metric.name]["median"]))
        cells.append("" if ratios is None else _number(ratios[f"{view.subject}/{client}"]))
    return "| " + " | ".join(cells) + " |"


def render(cases: dict[str, Any], targets: list[dict[str, Any]]) -> str:
    """The results as a Markdown table of medians and ratios, then the targets."""
    lines = [
        "| case | metric | SDK | baseline | SDK/baseline | other | SDK/other |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for case, summary in cases.items():
        view = _view(case)
        lines += [_row(view, metric, summary) for metric in view.metrics]
    lines += [
        "",
        "Medians over the repeats. Baseline: hand-written aiohttp (decode: hand-written attrs",
        "construction); other: httpx (decode: plain orjson dicts). A ratio is the median of the",
        "per-repeat SDK/other ratios: above 1 is better for throughput, worse for CPU and time.",
        "",
    ]
    for target in targets:
        verdict = "PASS" if target["passed"] else "MISS"
        lines.append(f"{verdict}  {target['name']}: measured {_number(target['value'])}")
    return "\n".join(lines)
