"""The results as a Markdown table: printed after a run, and pasted into the README."""

from __future__ import annotations

from typing import Any

from .harness import CONTENDERS, RATIOS, SCOPED_CONTENDERS
from .service import SERVICE_CONTENDERS, SERVICE_RATIOS


def _ratio(spread: dict[str, float]) -> str:
    return f"{spread['median']:.2f} ({spread['min']:.2f}-{spread['max']:.2f})"


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def markdown(results: dict[str, Any]) -> str:
    labels = [c.label for c in CONTENDERS]
    keys = [c.key for c in CONTENDERS]
    ratio_heads = {
        "tether_vs_floor": "L/F",
        "orm_vs_tether": "O1/L",
        "orm_tuned_vs_tether": "O2/L",
    }
    head = [
        "scenario",
        *(f"{label} µs" for label in labels),
        *(ratio_heads[name] for name in RATIOS),
        "round trips " + "/".join(labels),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, scenario in results["scenarios"].items():
        cells = [
            f"{name}: {scenario['what']}",
            *(_us(scenario["median_us"][key]) for key in keys),
            *(_ratio(scenario[ratio]) for ratio in RATIOS),
            "/".join(str(scenario["round_trips"][key]) for key in keys),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += scoped_table(results["scenarios"])
    lines += service_table(results.get("service", {}))
    lines += figures_table(results.get("figures", []))
    v = results["versions"]
    lines.append("")
    lines.append(
        f"{results['mode']} run, {results['date']}, {results['rounds']} rounds, "
        f"{results['machine']['cpus']} CPUs; PostgreSQL {v['postgresql']}, "
        f"pgvector {v['pgvector']}, asyncpg {v['asyncpg']}, SQLAlchemy {v['sqlalchemy']}, "
        f"Python {v['python']}. Ratios: median of the per-round ratios (lowest-highest round)."
    )
    return "\n".join(lines)


def service_table(service: dict[str, Any]) -> list[str]:
    """The service path: each scenario on pools beside the held connections."""
    if not service:
        return []
    labels = {c.key: c.label for c in SERVICE_CONTENDERS}
    ratio_heads = {
        name: f"{labels[top]}/{labels[bottom]}" for name, (top, bottom) in SERVICE_RATIOS.items()
    }
    head = [
        "scenario (service path)",
        *(f"{label} µs" for label in labels.values()),
        *ratio_heads.values(),
    ]
    lines = ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, scenario in service.items():
        cells = [
            name,
            *(_us(scenario["median_us"][key]) for key in labels),
            *(_ratio(scenario[ratio]) for ratio in SERVICE_RATIOS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def scoped_table(scenarios: dict[str, Any]) -> list[str]:
    """Scoped mode's scenarios: tether in an open transaction, unscoped and scoped."""
    scoped = {name: s for name, s in scenarios.items() if "scoped_vs_unscoped" in s}
    if not scoped:
        return []
    labels = [c.label for c in SCOPED_CONTENDERS]
    keys = [c.key for c in SCOPED_CONTENDERS]
    lines = [
        "",
        f"| scenario | {labels[0]} µs | {labels[1]} µs | {labels[1]}/{labels[0]} | "
        f"round trips {'/'.join(labels)} |",
        "|---|---|---|---|---|",
    ]
    for name, scenario in scoped.items():
        times = " | ".join(_us(scenario["median_us"][key]) for key in keys)
        trips = "/".join(str(scenario["round_trips"][key]) for key in keys)
        lines.append(f"| {name} | {times} | {_ratio(scenario['scoped_vs_unscoped'])} | {trips} |")
    return lines


def _figure(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def figures_table(figures: list[dict[str, Any]]) -> list[str]:
    """The measures that are not the four contenders' latencies, one row each."""
    if not figures:
        return []
    lines = [
        "",
        "| domain | measure | figures | goal | met |",
        "|---|---|---|---|---|",
    ]
    for figure in figures:
        values = ", ".join(f"{label} {_figure(value)}" for label, value in figure["values"].items())
        met = {True: "yes", False: "**no**", None: ""}[figure["met"]]
        note = f" ({figure['note']})" if figure["note"] else ""
        lines.append(
            f"| {figure['domain']} | {figure['name']}: {figure['what']}{note} | "
            f"{values} {figure['unit']} | {figure['goal']} | {met} |"
        )
    return lines
