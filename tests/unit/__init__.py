"""Unit tests of the SDK against a mocked server (aioresponses); no real sockets."""
