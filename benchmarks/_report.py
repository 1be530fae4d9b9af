"""Medians, SDK/baseline ratios, targets, the printed tables and the JSON document."""

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
    """Whether a ratio between two clients means something for this metric."""


_REQUESTS = (
    _Metric("requests_per_s", "requests/s"),
    _Metric("cpu_us_per_request", "client CPU µs/request"),
)
_WALK = (
    _Metric("members_per_s", "members/s"),
    _Metric("cpu_us_per_member", "client CPU µs/member"),
)
_MEMORY = (
    _Metric("peak_rss_mib_at_checkpoint", "peak RSS MiB, first checkpoint", ratio=False),
    _Metric("rss_mib_at_checkpoint", "RSS MiB, first checkpoint", ratio=False),
    _Metric("peak_rss_mib_at_end", "peak RSS MiB, end", ratio=False),
    _Metric("rss_mib_at_end", "RSS MiB, end", ratio=False),
    _Metric("peak_rss_growth_mib", "peak RSS growth MiB", ratio=False),
)
_DECODE = (_Metric("us_per_contact", "µs/contact"),)
_PACED = (_Metric("requests_per_s", "requests/s"),)


@attrs.frozen
class _View:
    """How one case shows: its title, its subject, and what the subject is compared with.

    In the main table ``compared`` fills the columns hand-written aiohttp with models,
    hand-written aiohttp with plain dicts, and httpx (``None``: not run). In the table of
    options, the subject is the reference every other client of the case is divided by.
    """

    title: str
    subject: str
    compared: tuple[str | None, ...]
    metrics: tuple[_Metric, ...]
    option: bool = False


_MAIN_COLUMNS = ("aiohttp", "aiohttp_dicts", "httpx")


def _view(case: str, clients: Any = ()) -> _View:
    if case.startswith("get_c"):
        concurrency, _, loop = case[5:].partition("_")
        if loop:
            return _View(
                f"get, concurrency {concurrency}, on {loop}",
                "sdk",
                ("aiohttp", None, None),
                _REQUESTS,
            )
        return _View(f"get, concurrency {concurrency}", "sdk", _MAIN_COLUMNS, _REQUESTS)
    if case.startswith("ids_c"):
        title = f"get, concurrency {case[5:]}, a different contact each time"
        return _View(title, "sdk", ("aiohttp", "aiohttp_dicts", None), _REQUESTS)
    if case.startswith("import_c"):
        title = f"create, concurrency {case[8:]}"
        return _View(title, "sdk", ("aiohttp", "aiohttp_dicts", None), _REQUESTS)
    if case == "stream":
        return _View("stream members", "sdk", ("aiohttp", "aiohttp_dicts", None), _WALK)
    if case == "stream_memory":
        return _View("stream: a full walk", "sdk", ("aiohttp", None, None), _MEMORY)
    if case.startswith("stream_"):
        return _View(f"stream members, on {case[7:]}", "sdk", ("aiohttp", None, None), _WALK)
    if case == "decode":
        title = "decode one contact"
        return _View(title, "sdk_model", ("hand_written", "orjson_dict", None), _DECODE)
    options = {
        "speedups": ("speedups extra: get c=64, with vs without", "speedups", _REQUESTS),
        "pacing": ("pacing: get c=64, off vs on", "off", _REQUESTS),
        "page_size": ("page size: SDK walk of the smaller group", "limit_100", _WALK),
        "loop_get_c64": ("event loop: SDK get c=64, asyncio vs uvloop", "asyncio", _REQUESTS),
        "loop_stream": ("event loop: SDK stream, asyncio vs uvloop", "asyncio", _WALK),
    }
    if case in options:
        title, reference, metrics = options[case]
        others = tuple(client for client in clients if client != reference)
        return _View(title, reference, others, metrics, option=True)
    raise ValueError(f"unknown case {case!r}")


def _with_loop_cases(runs: Runs) -> Runs:
    """``runs`` plus the SDK's uvloop runs set against its asyncio runs, where both ran."""
    derived = dict(runs)
    for case, name in (("get_c64", "loop_get_c64"), ("stream", "loop_stream")):
        if case in runs and f"{case}_uvloop" in runs:
            derived[name] = {
                "asyncio": runs[case]["sdk"],
                "uvloop": runs[f"{case}_uvloop"]["sdk"],
            }
    return derived


def _per_repeat(subject: list[float], other: list[float]) -> list[float]:
    """subject/other for each repeat, each paired with its own (an unmeasured one skipped)."""
    return [a / b for a, b in zip(subject, other, strict=True) if b]


def summarize(runs: Runs) -> dict[str, Any]:
    """Per case: every client's runs and medians, and the subject's ratios to the others
    (each the median of the per-repeat ratios, with those ratios)."""
    cases: dict[str, Any] = {}
    for case, clients in _with_loop_cases(runs).items():
        view = _view(case, clients)
        ratios: dict[str, dict[str, Any]] = {}
        for metric in view.metrics:
            if not metric.ratio:
                continue
            ratios[metric.name] = {}
            for other in view.compared:
                if other is None or metric.name not in clients.get(other, {}):
                    continue
                if view.option:  # each option divided by the reference
                    per_repeat = _per_repeat(
                        clients[other][metric.name], clients[view.subject][metric.name]
                    )
                    key = f"{other}/{view.subject}"
                else:
                    per_repeat = _per_repeat(
                        clients[view.subject][metric.name], clients[other][metric.name]
                    )
                    key = f"{view.subject}/{other}"
                ratios[metric.name][key] = {
                    "median": statistics.median(per_repeat) if per_repeat else None,
                    "runs": per_repeat,
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


def _baseline_targets(case: str, label: str, unit: str) -> tuple[_Target, ...]:
    return (
        _Target(f"{label}: SDK >= 0.90x hand-written {unit}s/s", case, f"{unit}s_per_s",
                ratio_to="aiohttp", threshold=0.90, at_least=True),
        _Target(f"{label}: SDK client CPU <= 1.10x hand-written", case, f"cpu_us_per_{unit}",
                ratio_to="aiohttp", threshold=1.10, at_least=False),
    )  # fmt: skip


_TARGETS = (
    *_baseline_targets("get_c1", "get c=1", "request"),
    *_baseline_targets("get_c64", "get c=64", "request"),
    *_baseline_targets("stream", "stream", "member"),
    *_baseline_targets("import_c32", "create c=32", "request"),
    _Target("get c=64: SDK >= 15x httpx req/s", "get_c64", "requests_per_s",
            ratio_to="httpx", threshold=15.0, at_least=True),
    _Target("stream: SDK peak RSS growth over the walk <= 1 MiB", "stream_memory",
            "peak_rss_growth_mib", ratio_to=None, threshold=1.0, at_least=False),
)  # fmt: skip
"""The targets of issue #13: the SDK against the hand-written aiohttp client with models."""


def check_targets(cases: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target whose case ran: the median, each repeat's value, and PASS or MISS."""
    results = []
    for target in _TARGETS:
        if target.case not in cases:
            continue
        case = cases[target.case]
        if target.ratio_to is None:
            measured = case["clients"]["sdk"][target.metric]
        else:
            measured = case["ratios"][target.metric][f"sdk/{target.ratio_to}"]
        value = measured["median"]
        passed = value is not None and (
            value >= target.threshold if target.at_least else value <= target.threshold
        )
        results.append(
            {
                "name": target.name,
                "value": value,
                "runs": measured["runs"],
                "threshold": target.threshold,
                "passed": passed,
            }
        )
    return results


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _ratio(summary: dict[str, Any], metric: str, key: str) -> str:
    ratio = summary["ratios"].get(metric, {}).get(key)
    return "" if ratio is None else _number(ratio["median"])


def _main_row(view: _View, metric: _Metric, summary: dict[str, Any]) -> str:
    clients = summary["clients"]
    cells = [view.title, metric.label, _number(clients[view.subject][metric.name]["median"])]
    for client in view.compared:
        if client is None:
            cells += ["", ""]
            continue
        cells.append(_number(clients[client][metric.name]["median"]))
        cells.append(_ratio(summary, metric.name, f"{view.subject}/{client}"))
    return "| " + " | ".join(cells) + " |"


def _option_rows(view: _View, summary: dict[str, Any]) -> list[str]:
    clients = summary["clients"]
    rows = []
    for client in (view.subject, *view.compared):
        assert client is not None
        for metric in view.metrics:
            if metric.name not in clients[client]:
                continue
            ratio = (
                "1"
                if client == view.subject
                else _ratio(summary, metric.name, f"{client}/{view.subject}")
            )
            median = _number(clients[client][metric.name]["median"])
            rows.append(f"| {view.title} | {client} | {metric.label} | {median} | {ratio} |")
    return rows


def _spread(runs: list[float]) -> str:
    if len(runs) < 2:
        return ""
    return f" (repeats {_number(min(runs))} to {_number(max(runs))})"


def render(cases: dict[str, Any], targets: list[dict[str, Any]]) -> str:
    """The results as Markdown tables of medians and ratios, then the targets."""
    lines = [
        "| case | metric | SDK | aiohttp + models | SDK/that | aiohttp dicts | SDK/that "
        "| httpx | SDK/that |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    options = ["| option | variant | metric | median | variant/first |", "|---|---|---|---:|---:|"]
    for case, summary in cases.items():
        view = _view(case, summary["clients"])
        if view.option:
            options += _option_rows(view, summary)
        else:
            lines += [_main_row(view, metric, summary) for metric in view.metrics]
    lines += [
        "",
        "Medians over the repeats. aiohttp + models: the hand-written baseline (decode: the",
        "hand-written constructor call); aiohttp dicts: the same stopping at orjson's dicts. A",
        "ratio is the median of the per-repeat ratios: above 1 is better for throughput, worse",
        "for CPU and time.",
    ]
    if len(options) > 2:
        lines += ["", *options]
    lines.append("")
    for target in targets:
        verdict = "PASS" if target["passed"] else "MISS"
        lines.append(
            f"{verdict}  {target['name']}: measured {_number(target['value'])}"
            f"{_spread(target['runs'])}"
        )
    return "\n".join(lines)
