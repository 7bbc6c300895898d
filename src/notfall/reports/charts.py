"""The statistics report's charts (SVG and PNG, drawn with matplotlib) and its PDF (fpdf2, with
the PNG charts embedded), written next to the report's JSON and CSV.

Only the command (`python -m notfall.reports.statistics`) draws them: matplotlib is a
development requirement, not in the Lambda layer (it would add tens of MB and a slow first
import to every cold start of the function that serves the report). The API answers JSON and
CSV; the files here are made where the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from notfall.documents.pdf import FONT, FONT_FILES

CHARTS = {
    "monthly": "monthly",  # requests, consultations, emergencies, care hours and transports per month
    "load": "load",  # requests by weekday and hour (Berlin time)
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    matplotlib.rcParams["svg.hashsalt"] = "notfall"  # the same report draws the same SVG
    import matplotlib.pyplot as plt

    return plt


def monthly_chart(report: dict[str, Any], stem: Path) -> None:
    plt = _pyplot()
    months = [row["month"] for row in report["monthly"]]
    fig, (counts, hours) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for name in ("requests", "consultations", "emergencies", "transports"):
        counts.plot(
            months, [row[name] for row in report["monthly"]], label=name, marker="." if len(months) < 40 else ""
        )
    counts.set_ylabel("count")
    counts.legend(loc="upper left", fontsize=8)
    counts.grid(alpha=0.3)
    hours.bar(months, [row["care_minutes"] / 60 for row in report["monthly"]], color="tab:green")
    hours.set_ylabel("care hours")
    hours.grid(alpha=0.3)
    step = max(1, len(months) // 24)
    hours.set_xticks(range(0, len(months), step), months[::step], rotation=90, fontsize=7)
    fig.suptitle(f"Per month, {report['from']} to {report['to']}")
    fig.tight_layout()
    _save(plt, fig, stem)


def load_chart(report: dict[str, Any], stem: Path) -> None:
    plt = _pyplot()
    load = report["load"]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    image = ax.imshow(load["grid"], aspect="auto", cmap="Blues")
    ax.set_yticks(range(7), load["weekdays"])
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=7)
    ax.set_xlabel("hour (Europe/Berlin)")
    fig.colorbar(image, ax=ax, label="requests")
    ax.set_title(f"Requests by weekday and hour, {report['from']} to {report['to']}")
    fig.tight_layout()
    _save(plt, fig, stem)


def _save(plt: Any, fig: Any, stem: Path) -> None:
    fig.savefig(stem.with_suffix(".svg"), metadata={"Date": None})
    fig.savefig(stem.with_suffix(".png"), dpi=120, metadata={"Software": None})
    plt.close(fig)


def draw(report: dict[str, Any], out: Path) -> dict[str, dict[str, str]]:
    """Draws both charts into `out`; the links (file names relative to the report) by chart."""
    monthly_chart(report, out / CHARTS["monthly"])
    load_chart(report, out / CHARTS["load"])
    return {name: {"svg": f"{stem}.svg", "png": f"{stem}.png"} for name, stem in CHARTS.items()}


def pdf(report: dict[str, Any], out: Path) -> bytes:
    """The report on A4: the main figures, coverage, unmet demand, and the two charts."""
    doc = FPDF(format="A4")
    for style, path in FONT_FILES.items():
        doc.add_font(FONT, style, str(path))
    doc.set_auto_page_break(True, margin=15)
    doc.add_page()
    doc.set_font(FONT, "B", 14)
    scope = report["scope"]
    about = f" - Partner {scope['partner']}" if scope["partner"] else ""
    about += f" - {scope['municipality']}" if scope["municipality"] else ""
    doc.cell(0, 8, f"Statistics {report['from']} to {report['to']}{about}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, "", 9)
    sections = (
        ("Figures", report["figures"]),
        ("Requests by channel", report["requests_by_channel"]),
        ("Coverage", report["coverage"]),
        ("Unmet demand and time to assignment", _flat(report["unmet_demand"])),
        ("Children and adults", _flat(report["children_and_adults"])),
        ("Age groups (emergencies)", report["age_groups"]),
        ("Reasons (emergencies)", report["reasons"]),
    )
    for title, values in sections:
        doc.set_font(FONT, "B", 10)
        doc.cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_font(FONT, "", 9)
        for key, value in values.items():
            doc.cell(80, 5, str(key))
            doc.cell(0, 5, "-" if value is None else str(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if report["corrections"]:
        doc.set_font(FONT, "B", 10)
        doc.cell(0, 7, "Corrected after the period's end", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_font(FONT, "", 8)
        for c in report["corrections"]:
            kinds = ", ".join(f"{e['event_type']} {e['recorded_at']}" for e in c["events"])
            text = f"{c['stream_id']}: {', '.join(c['figures'])} ({kinds})"
            doc.multi_cell(0, 4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for name in CHARTS.values():
        doc.add_page()
        doc.image(str(out / f"{name}.png"), w=doc.epw)
    return bytes(doc.output())


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update({f"{key} {k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out
