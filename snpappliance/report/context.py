"""Everything the report template shows, as plain strings: provenance, tables, lists.

Pure functions from the results and the analysis to human-formatted rows; the
template only lays them out.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from snpappliance.formats.campaigndir import ENVIRONMENT_FILE, INFO_FILE, SMOKE_FILE, SPEC_FILE
from snpappliance.formats.results import metric_info
from snpappliance.formats.smoke import load_smoke, relative_to_baseline
from snpappliance.report.stats.analysis import Analysis, NoteTable
from snpappliance.report.text import (
    DASH,
    fmt_ci,
    fmt_delta,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_spread,
    fmt_u,
    missing,
    notes_for,
    synthesis_sentence,
)

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.report.load import ResultSet

#: Campaign files whose facts the provenance section shows, when present.
CAMPAIGN_FACT_FILES = (SPEC_FILE, ENVIRONMENT_FILE)
MAX_FACTS_PER_FILE = 80
MAX_FACT_CHARS = 160

Row = dict[str, str]


@dataclass(frozen=True)
class FactGroup:
    """Key facts of one file, flattened to (dotted key, value) pairs."""

    title: str
    facts: tuple[tuple[str, str], ...]
    note: str = ""


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def unit_of(analysis: Analysis, metric: str) -> str:
    return metric_info(metric, analysis.units.get(metric) or None).unit


def _metric_label(analysis: Analysis, metric: str) -> str:
    unit = unit_of(analysis, metric)
    return f"{metric} ({unit})" if unit else metric


def descriptive_rows(analysis: Analysis) -> list[Row]:
    """Table 2, formatted."""
    rows = []
    for r in records(analysis.descriptive):
        row = {
            "scenario": str(r["scenario"]),
            "metric": _metric_label(analysis, str(r["metric"])),
            "n": fmt_int(r["n"]),
            "n_removed": fmt_int(r["n_removed"]),
            "ci95": fmt_ci(r["ci95_low"], r["ci95_high"]),
        }
        row |= {k: fmt_num(r[k]) for k in ("mean", "median", "min", "max", "q1", "q3")}
        row |= {k: fmt_spread(r[k]) for k in ("std", "iqr", "sem")}
        rows.append(row)
    return rows


def comparison_rows(frame: pd.DataFrame) -> list[Row]:
    """Table 3, formatted."""
    rows = []
    for r in records(frame):
        rows.append(
            {
                "metric": str(r["metric"]),
                "scenario": str(r["scenario"]),
                "baseline": str(r["baseline"]),
                "n": f"{fmt_int(r['n_baseline'])} / {fmt_int(r['n_scenario'])}",
                "median_baseline": fmt_num(r["median_baseline"]),
                "median_scenario": fmt_num(r["median_scenario"]),
                "change_median": fmt_pct(r["change_median_pct"]),
                "change_mean": fmt_pct(r["change_mean_pct"]),
                "welch_t": fmt_num(r["welch_t"], 4),
                "welch_df": fmt_num(r["welch_df"], 3),
                "welch_p": fmt_p(r["welch_p"]),
                "mwu_u": fmt_u(r["mwu_u"]),
                "mwu_p": fmt_p(r["mwu_p"]),
                "mwu_method": DASH if missing(r["mwu_method"]) else str(r["mwu_method"]),
                "delta": fmt_delta(r["cliffs_delta"]),
                "delta_ci": fmt_ci(r["cliffs_delta_ci_low"], r["cliffs_delta_ci_high"], fmt_delta)
                + (" asymptotic" if r.get("cliffs_delta_ci_method") == "asymptotic" else ""),
                "magnitude": DASH if missing(r["magnitude"]) else str(r["magnitude"]),
                "p_holm": fmt_p(r["p_holm"]),
            }
        )
    return rows


def _verdict(p_holm: object, alpha: float) -> str:
    if missing(p_holm):
        return "no test"
    return "yes" if float(p_holm) < alpha else "no"  # type: ignore[arg-type]


def side_by_side_rows(analysis: Analysis) -> list[Row]:
    """The comparison with (filtered) and without (raw) outlier removal, per row."""
    alpha = analysis.options.alpha
    raw = {(r["metric"], r["scenario"]): r for r in records(analysis.comparisons_unfiltered)}
    rows = []
    for f in records(analysis.comparisons):
        u = raw.get((f["metric"], f["scenario"]), f)
        rows.append(
            {
                "metric": str(f["metric"]),
                "scenario": str(f["scenario"]),
                "n_f": f"{fmt_int(f['n_baseline'])} / {fmt_int(f['n_scenario'])}",
                "n_u": f"{fmt_int(u['n_baseline'])} / {fmt_int(u['n_scenario'])}",
                "change_f": fmt_pct(f["change_median_pct"]),
                "change_u": fmt_pct(u["change_median_pct"]),
                "delta_f": fmt_delta(f["cliffs_delta"]),
                "delta_u": fmt_delta(u["cliffs_delta"]),
                "p_f": fmt_p(f["p_holm"]),
                "p_u": fmt_p(u["p_holm"]),
                "sig_f": _verdict(f["p_holm"], alpha),
                "sig_u": _verdict(u["p_holm"], alpha),
            }
        )
    return rows


def _run_label(rep: object, run_id: object) -> str:
    if not missing(rep) and str(rep):
        return f"rep {rep}"
    if not missing(run_id) and str(run_id):
        return f"run {run_id}"
    return "run ?"


#: Most removed values listed per arm in the report (all are in stats/outliers.csv).
OUTLIERS_LISTED = 50


def outlier_rows(analysis: Analysis) -> list[Row]:
    """Removed values grouped per arm: scenario, metric, fences and the first
    :data:`OUTLIERS_LISTED` (rep, value) pairs."""
    rows = []
    for (scenario, metric), group in analysis.outliers.groupby(["scenario", "metric"], sort=False):
        first = group.iloc[0]
        values = "; ".join(
            f"{_run_label(r['rep'], r['run_id'])}: {fmt_num(r['value'])}"
            for r in records(group.head(OUTLIERS_LISTED))
        )
        if len(group) > OUTLIERS_LISTED:
            values += f"; … {len(group) - OUTLIERS_LISTED} more in stats/outliers.csv"
        rows.append(
            {
                "scenario": str(scenario),
                "metric": str(metric),
                "count": str(len(group)),
                "fences": fmt_ci(first["fence_low"], first["fence_high"]),
                "removed_values": values,
            }
        )
    return rows


def excluded_rows(analysis: Analysis) -> list[Row]:
    """Runs left out of the statistics (status other than ok), per scenario/metric/status."""
    return [
        {
            "scenario": str(r["scenario"]),
            "metric": str(r["metric"]),
            "status": str(r["status"]),
            "count": fmt_int(r["count"]),
        }
        for r in records(analysis.excluded)
    ]


def retried_rows(results: ResultSet) -> list[Row]:
    """Ok runs that needed more than one attempt, per scenario and metric."""
    ok = results.ok
    attempts = pd.to_numeric(ok["attempt"], errors="coerce")
    retried = ok[attempts > 1]
    counts = retried.groupby(["scenario", "metric"], sort=False).size().reset_index(name="n")
    return [
        {"scenario": str(r["scenario"]), "metric": str(r["metric"]), "count": str(r["n"])}
        for r in records(counts)
    ]


def note_rows(analysis: Analysis) -> list[Row]:
    """Why statistics are empty, per table."""
    titles = {
        NoteTable.DESCRIPTIVE: "Table 2",
        NoteTable.COMPARISONS: "Table 3",
        NoteTable.COMPARISONS_UNFILTERED: "Table 3 without outlier filter",
    }
    return [
        {
            "table": titles.get(n.table, str(n.table)),
            "scenario": n.scenario or "all",
            "metric": n.metric,
            "statistic": n.statistic,
            "reason": n.reason,
        }
        for n in analysis.notes
    ]


def synthesis(analysis: Analysis) -> list[str]:
    """One sentence per comparison, in table order."""
    notes = [n for n in analysis.notes if n.table is NoteTable.COMPARISONS]
    sentences = []
    for row in records(analysis.comparisons):
        metric = metric_info(str(row["metric"]), analysis.units.get(str(row["metric"])) or None)
        reasons = notes_for(notes, str(row["scenario"]), metric.name)
        sentences.append(
            synthesis_sentence(row, metric, alpha=analysis.options.alpha, reasons=reasons)
        )
    if not sentences:
        only = ", ".join(analysis.scenarios)
        sentences.append(
            f"Only one scenario ({only}) is present: there is nothing to compare "
            "with the baseline, so the report shows descriptive statistics only."
        )
    return sentences


def _scalar(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
    return text if len(text) <= MAX_FACT_CHARS else text[: MAX_FACT_CHARS - 1] + "…"


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) pairs of nested mappings; lists of scalars joined with commas."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        for i, inner in enumerate(value):
            yield from flatten(inner, f"{prefix}[{i}]")
    elif isinstance(value, list):
        yield prefix, _scalar(", ".join(str(v) for v in value))
    else:
        yield prefix, _scalar(value)


def _load_facts(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)


def fact_group(title: str, data: Any) -> FactGroup:
    pairs = list(flatten(data))
    note = ""
    if len(pairs) > MAX_FACTS_PER_FILE:
        note = f"first {MAX_FACTS_PER_FILE} of {len(pairs)} entries; the file has them all"
    return FactGroup(title, tuple(pairs[:MAX_FACTS_PER_FILE]), note)


def campaign_facts(results: ResultSet, campaign_dir: Path | None) -> list[FactGroup]:
    """campaign.json, campaign.toml and environment.json facts, as far as they exist."""
    groups: list[FactGroup] = []
    if results.campaign is not None:
        info = results.campaign
        declared = {
            "campaign_id": info.campaign_id,
            "baseline": info.baseline,
            "profile": info.profile,
            "emulated": info.emulated,
            "label": info.label,
            **dict(info.extra),
        }
        groups.append(fact_group(INFO_FILE, {k: v for k, v in declared.items() if v is not None}))
    if campaign_dir is None:
        return groups
    for name in CAMPAIGN_FACT_FILES:
        path = campaign_dir / name
        if not path.is_file():
            continue
        try:
            groups += _file_groups(name, _load_facts(path))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            groups.append(FactGroup(name, (), f"could not be read: {exc}"))
    return groups


def _file_groups(name: str, data: Any) -> list[FactGroup]:
    """One group per file; a multi-host environment.json gives one group per host."""
    hosts = data.get("hosts") if isinstance(data, dict) else None
    if name == ENVIRONMENT_FILE and isinstance(hosts, dict) and len(data) == 1:
        return [fact_group(f"{name} — host {host}", facts) for host, facts in hosts.items()]
    return [fact_group(name, data)]


def counts_line(results: ResultSet) -> str:
    total, ok = len(results.frame), len(results.ok)
    return (
        f"{total} rows: {ok} with status ok (in the statistics), {total - ok} other "
        f"(counted below, left out of the statistics); {len(results.scenarios)} scenarios × "
        f"{len(results.metrics)} metrics"
    )


def scenario_list(names: Sequence[str]) -> str:
    return ", ".join(names)


def smoke_table(campaign_dir: Path | None, baseline: str) -> list[Row]:
    """The macro smoke tests of ``campaign_dir/smoke.csv`` ([] when there is none)."""
    if campaign_dir is None or not (campaign_dir / SMOKE_FILE).is_file():
        return []
    return [
        {
            "host": line.host or DASH,
            "test": line.test,
            "metric": f"{line.metric} ({line.unit}, {line.direction.better_word})"
            if line.direction
            else DASH,
            "scenario": line.scenario,
            "value": fmt_num(line.row.value),
            "n": str(line.row.iterations),
            "raw": " ".join(fmt_num(v) for v in line.row.raw) or DASH,
            "relative": DASH if line.ratio is None else fmt_pct((line.ratio - 1.0) * 100.0),
            "status": line.row.status.value,
        }
        for line in relative_to_baseline(load_smoke(campaign_dir / SMOKE_FILE), baseline)
    ]
