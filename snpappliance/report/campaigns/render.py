"""The comparison for people and programs: CSV (stats/), markdown, HTML and PDF.

``stats/*.csv`` and ``stats/comparison.json`` keep full precision. The
tables round an overhead, a difference and their CI bounds to the same
number of decimals, chosen from the CI: two significant digits of its
half-width (the bootstrap cannot support more).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jinja2

from snpappliance.errors import ReportError
from snpappliance.fsutil import atomic_write_text
from snpappliance.report.text import fmt_num, fmt_p
from snpappliance.resources import data_dir, package_file

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from snpappliance.report.campaigns.difference import Difference
    from snpappliance.report.campaigns.overhead import Overhead

TEMPLATE = "comparison.html.j2"
MARKDOWN_NAME = "comparison.md"
STATS_DIR = "stats"
OVERHEADS_CSV = "comparison_overheads.csv"
DIFFERENCES_CSV = "comparison_differences.csv"
METHOD_JSON = "comparison.json"
MINUS = "\N{MINUS SIGN}"
DASH = "\N{EN DASH}"
MAX_DECIMALS = 6

OVERHEAD_COLUMNS = (
    "campaign",
    "emulated",
    "workload",
    "metric",
    "unit",
    "direction",
    "baseline",
    "scenario",
    "n_baseline",
    "n_scenario",
    "median_baseline",
    "median_scenario",
    "overhead_pct",
    "ci95_low",
    "ci95_high",
)
DIFFERENCE_COLUMNS = (
    "workload",
    "metric",
    "scenario",
    "reference",
    "campaign",
    "overhead_reference_pct",
    "overhead_campaign_pct",
    "difference_pp",
    "ci95_low",
    "ci95_high",
    "p_value",
    "p_holm",
)


@dataclass(frozen=True)
class CampaignEntry:
    """What the report says about one compared campaign (all plain text)."""

    label: str
    shown: str
    emulated: bool
    source: str
    sha256: str
    campaign_id: str
    recorded_label: str
    baseline: str
    baseline_reason: str
    rows: str
    report_dir: str


# ---------------------------------------------------------------- numbers for people


def ci_decimals(low: float, high: float) -> int:
    """Decimals that give the CI's half-width two significant digits (2 when it has none)."""
    half = (high - low) / 2.0
    if not math.isfinite(half) or half <= 0:
        return 2
    return min(MAX_DECIMALS, max(0, 1 - math.floor(math.log10(half))))


def fmt_fixed(x: float, decimals: int, *, signed: bool = True) -> str:
    if not math.isfinite(x):
        return DASH
    text = f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"
    if float(text) == 0:
        return f"{0:.{decimals}f}"
    return text.replace("-", MINUS, 1)


def fmt_estimate(x: float, low: float, high: float, unit: str) -> str:
    """ "+5.2 % [+3.1, +7.4]": estimate and bounds in the decimals the CI supports."""
    if not math.isfinite(x):
        return DASH
    d = ci_decimals(low, high)
    bounds = f" [{fmt_fixed(low, d)}, {fmt_fixed(high, d)}]" if math.isfinite(low) else ""
    return f"{fmt_fixed(x, d)} {unit}{bounds}"


def overhead_text(o: Overhead) -> str:
    return fmt_estimate(o.overhead_pct, o.ci_low, o.ci_high, "%")


def difference_text(d: Difference) -> str:
    return fmt_estimate(d.difference_pp, d.ci_low, d.ci_high, "pp")


def verdict(d: Difference, alpha: float) -> str:
    """benchstat's last column: "~" when not significant, else which way it went."""
    if not d.significant(alpha):
        return "~"
    return "larger overhead" if d.difference_pp > 0 else "smaller overhead"


def synthesis(differences: Sequence[Difference], alpha: float) -> list[str]:
    """One sentence per significant difference, or one saying there is none."""
    found = [d for d in differences if d.significant(alpha)]
    if not found:
        return [
            f"No difference of overheads is significant at α = {alpha:g} after Holm's "
            f"adjustment over the {len(differences)} comparison(s) of this report."
        ]
    sentences = []
    for d in found:
        where = f"{d.metric} ({d.workload})" if d.workload else d.metric
        way = "larger" if d.difference_pp > 0 else "smaller"
        sentences.append(
            f"{where}, {d.scenario}: the overhead is {way} in {d.campaign} than in "
            f"{d.reference} by {difference_text(d).lstrip('+' + MINUS)} "
            f"(Holm-adjusted p {fmt_p_clause(d.p_holm)})."
        )
    return sentences


def fmt_p_clause(p: float) -> str:
    text = fmt_p(p)
    return text if text.startswith("<") else f"= {text}"


def overhead_rows(overheads: Sequence[Overhead]) -> list[dict[str, str]]:
    return [
        {
            "workload": o.workload or DASH,
            "metric": o.metric,
            "direction": o.direction.better_word,
            "arm": f"{o.scenario} vs {o.baseline}",
            "n": f"{o.n_scenario} / {o.n_baseline}",
            "medians": f"{fmt_num(o.median_scenario)} / {fmt_num(o.median_baseline)} {o.unit}",
            "overhead": overhead_text(o),
        }
        for o in overheads
    ]


def difference_rows(differences: Sequence[Difference], alpha: float) -> list[dict[str, str]]:
    return [
        {
            "workload": d.workload or DASH,
            "metric": d.metric,
            "scenario": d.scenario,
            "pair": f"{d.campaign} vs {d.reference}",
            "reference": fmt_fixed(d.overhead_reference, ci_decimals(d.ci_low, d.ci_high)) + " %",
            "campaign": fmt_fixed(d.overhead_campaign, ci_decimals(d.ci_low, d.ci_high)) + " %",
            "difference": difference_text(d),
            "p": fmt_p(d.p_value),
            "p_holm": fmt_p(d.p_holm),
            "verdict": verdict(d, alpha),
        }
        for d in differences
    ]


# ---------------------------------------------------------------- files for programs


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[c]) for c in columns] for row in rows)
    return buffer.getvalue()


def overhead_records(
    overheads: Sequence[Overhead], emulated: Mapping[str, bool]
) -> list[dict[str, Any]]:
    return [
        {
            "campaign": o.campaign,
            "emulated": emulated[o.campaign],
            "workload": o.workload,
            "metric": o.metric,
            "unit": o.unit,
            "direction": o.direction.value,
            "baseline": o.baseline,
            "scenario": o.scenario,
            "n_baseline": o.n_baseline,
            "n_scenario": o.n_scenario,
            "median_baseline": o.median_baseline,
            "median_scenario": o.median_scenario,
            "overhead_pct": o.overhead_pct,
            "ci95_low": o.ci_low,
            "ci95_high": o.ci_high,
        }
        for o in overheads
    ]


def difference_records(differences: Sequence[Difference]) -> list[dict[str, Any]]:
    return [
        {
            "workload": d.workload,
            "metric": d.metric,
            "scenario": d.scenario,
            "reference": d.reference,
            "campaign": d.campaign,
            "overhead_reference_pct": d.overhead_reference,
            "overhead_campaign_pct": d.overhead_campaign,
            "difference_pp": d.difference_pp,
            "ci95_low": d.ci_low,
            "ci95_high": d.ci_high,
            "p_value": d.p_value,
            "p_holm": d.p_holm,
        }
        for d in differences
    ]


def write_stats(
    stage: Path,
    overheads: Sequence[Overhead],
    differences: Sequence[Difference],
    method: Mapping[str, Any],
    emulated: Mapping[str, bool],
) -> None:
    """``stats/comparison_overheads.csv``, ``comparison_differences.csv`` and
    ``comparison.json`` (the method, seed and campaigns) at full precision."""
    stats = stage / STATS_DIR
    stats.mkdir(exist_ok=True)
    atomic_write_text(
        stats / OVERHEADS_CSV, csv_text(overhead_records(overheads, emulated), OVERHEAD_COLUMNS)
    )
    atomic_write_text(
        stats / DIFFERENCES_CSV, csv_text(difference_records(differences), DIFFERENCE_COLUMNS)
    )
    text = json.dumps(method, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(stats / METHOD_JSON, text)


# ---------------------------------------------------------------- pages


def markdown(context: Mapping[str, Any]) -> str:
    """The comparison as markdown: campaigns, differences and overheads."""
    lines = [f"# {context['title']}", ""]
    if context["banner"]:
        lines += [f"**{context['banner']}**", ""]
    lines += [*(f"- {s}" for s in context["synthesis"]), "", "## Campaigns", ""]
    lines += _md_table(
        ("#", "campaign", "source", "baseline", "rows", "report"),
        [
            (
                str(i),
                c.shown,
                c.source,
                f"{c.baseline} ({c.baseline_reason})",
                c.rows,
                f"{c.report_dir}/report.pdf",
            )
            for i, c in enumerate(context["campaigns"], 1)
        ],
    )
    lines += ["", "## Difference of overheads", "", context["difference_note"], ""]
    lines += _md_table(
        (
            "workload",
            "metric",
            "scenario",
            "campaigns",
            "overhead (ref.)",
            "overhead",
            "difference [95 % CI]",
            "p",
            "p (Holm)",
            "",
        ),
        [
            (
                r["workload"],
                r["metric"],
                r["scenario"],
                r["pair"],
                r["reference"],
                r["campaign"],
                r["difference"],
                r["p"],
                r["p_holm"],
                r["verdict"],
            )
            for r in context["differences"]
        ],
    )
    for section in context["sections"]:
        lines += ["", f"## {section['campaign'].shown}", ""]
        lines += _md_table(
            ("workload", "metric", "scenario vs baseline", "n", "medians", "overhead [95 % CI]"),
            [
                (r["workload"], r["metric"], r["arm"], r["n"], r["medians"], r["overhead"])
                for r in section["overheads"]
            ],
        )
    if context["not_compared"]:
        lines += ["", "## Not compared", "", *(f"- {n}" for n in context["not_compared"])]
    lines += ["", context["method_text"], ""]
    return "\n".join(lines)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]


def render_html(context: Mapping[str, Any], *, for_pdf: bool) -> str:
    """The comparison page; ``for_pdf`` shows paths as text, not links into the staging dir."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(package_file("report", "campaigns")),
                jinja2.FileSystemLoader(data_dir("templates")),
            ]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        return env.get_template(TEMPLATE).render(**context, for_pdf=for_pdf)
    except jinja2.TemplateError as exc:
        msg = f"the comparison template {TEMPLATE} failed to render: {exc}"
        raise ReportError(msg, hint="reinstall snpapp") from exc


def emulated_banner(campaigns: Sequence[CampaignEntry]) -> str | None:
    """The banner of a comparison that includes emulated campaigns, else None."""
    emulated = [c.label for c in campaigns if c.emulated]
    if not emulated:
        return None
    which = "every campaign" if len(emulated) == len(campaigns) else ", ".join(emulated)
    return (
        f"Local emulated profile ({which}): not SNP measurements; "
        "they say nothing about what SEV-SNP costs"
    )
