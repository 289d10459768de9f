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
    fmt_at,
    fmt_ci,
    fmt_ci_at,
    fmt_delta,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_spread_at,
    fmt_u,
    is_worse,
    missing,
    notes_for,
    overhead_pct,
    pct_digits,
    series_name,
    synthesis_sentence,
)

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.report.load import ResultSet

#: Campaign files whose facts the appendix shows in full, when present.
CAMPAIGN_FACT_FILES = (SPEC_FILE, ENVIRONMENT_FILE)
MAX_FACT_CHARS = 160
#: Keys ``<prefix>.deb:<package>`` (a toolchain's Debian packages) are listed in one row.
_DEB = ".deb:"

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


def workload_label(workload: object) -> str:
    """A workload as a table shows it: a dash when the rows name none."""
    return DASH if missing(workload) or not str(workload) else str(workload)


def _series_order(analysis: Analysis) -> dict[tuple[str, str], int]:
    return {s: i for i, s in enumerate(analysis.series)}


def _grouped(analysis: Analysis, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` grouped by workload then metric in report order (stable within a series)."""
    rank = _series_order(analysis)
    return sorted(rows, key=lambda r: rank.get((_text(r["workload"]), str(r["metric"])), 0))


def _text(value: Any) -> str:
    return "" if missing(value) else str(value)


def descriptive_rows(analysis: Analysis) -> list[Row]:
    """Table 2, formatted, grouped by workload; numbers at the series' resolution."""
    rows = []
    for r in _grouped(analysis, records(analysis.descriptive)):
        digits = analysis.decimals(_text(r["workload"]), str(r["metric"]))
        row = {
            "scenario": str(r["scenario"]),
            "workload": workload_label(r["workload"]),
            "metric": _metric_label(analysis, str(r["metric"])),
            "n": fmt_int(r["n"]),
            "n_removed": fmt_int(r["n_removed"]),
            "ci95": fmt_ci_at(r["ci95_low"], r["ci95_high"], digits),
        }
        row |= {k: fmt_at(r[k], digits) for k in ("mean", "median", "min", "max", "q1", "q3")}
        row |= {k: fmt_spread_at(r[k], digits) for k in ("std", "iqr", "sem")}
        rows.append(row)
    return rows


def effect_class(row: Mapping[str, Any], analysis: Analysis) -> str:
    """ "worse", "better" or "" (not significant): the colour of a change in the tables."""
    p, change = row.get("p_holm"), row.get("change_median_pct")
    if p is None or change is None or missing(p) or missing(change):
        return ""
    if float(p) >= analysis.options.alpha or change == 0:
        return ""
    metric = metric_info(str(row["metric"]), analysis.units.get(str(row["metric"])) or None)
    return "worse" if is_worse(float(change), metric) else "better"


def comparison_rows(frame: pd.DataFrame, analysis: Analysis | None = None) -> list[Row]:
    """Table 3, formatted (grouped by workload and at each series' resolution when the
    ``analysis`` the frame belongs to is given)."""
    rows = []
    found = records(frame)
    for r in _grouped(analysis, found) if analysis is not None else found:
        workload = _text(r.get("workload"))
        digits = analysis.decimals(workload, str(r["metric"])) if analysis else None
        pct = pct_digits(digits, r["median_baseline"])
        rows.append(
            {
                "workload": workload_label(workload),
                "metric": str(r["metric"]),
                "scenario": str(r["scenario"]),
                "baseline": str(r["baseline"]),
                "n": f"{fmt_int(r['n_baseline'])} / {fmt_int(r['n_scenario'])}",
                "median_baseline": fmt_at(r["median_baseline"], digits),
                "median_scenario": fmt_at(r["median_scenario"], digits),
                "change_median": fmt_pct(r["change_median_pct"], decimals=pct),
                "change_mean": fmt_pct(r["change_mean_pct"], decimals=pct),
                "effect": effect_class(r, analysis) if analysis else "",
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
    raw = {
        (_text(r["workload"]), r["metric"], r["scenario"]): r
        for r in records(analysis.comparisons_unfiltered)
    }
    rows = []
    for f in _grouped(analysis, records(analysis.comparisons)):
        workload = _text(f["workload"])
        u = raw.get((workload, f["metric"], f["scenario"]), f)
        pct = pct_digits(analysis.decimals(workload, str(f["metric"])), f["median_baseline"])
        rows.append(
            {
                "workload": workload_label(workload),
                "metric": str(f["metric"]),
                "scenario": str(f["scenario"]),
                "n_f": f"{fmt_int(f['n_baseline'])} / {fmt_int(f['n_scenario'])}",
                "n_u": f"{fmt_int(u['n_baseline'])} / {fmt_int(u['n_scenario'])}",
                "change_f": fmt_pct(f["change_median_pct"], decimals=pct),
                "change_u": fmt_pct(u["change_median_pct"], decimals=pct),
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
    """Removed values grouped per arm: scenario, workload, metric, fences and the first
    :data:`OUTLIERS_LISTED` (rep, value) pairs."""
    rows = []
    arms = analysis.outliers.groupby(["scenario", "workload", "metric"], sort=False)
    for (scenario, workload, metric), group in arms:
        first = group.iloc[0]
        digits = analysis.decimals(_text(workload), str(metric))
        values = "; ".join(
            f"{_run_label(r['rep'], r['run_id'])}: {fmt_at(r['value'], digits)}"
            for r in records(group.head(OUTLIERS_LISTED))
        )
        if len(group) > OUTLIERS_LISTED:
            values += f"; … {len(group) - OUTLIERS_LISTED} more in stats/outliers.csv"
        rows.append(
            {
                "scenario": str(scenario),
                "workload": workload_label(workload),
                "metric": str(metric),
                "count": str(len(group)),
                "fences": fmt_ci_at(first["fence_low"], first["fence_high"], digits),
                "removed_values": values,
            }
        )
    return rows


def excluded_rows(analysis: Analysis) -> list[Row]:
    """Runs left out of the statistics (status other than ok), per scenario/metric/status."""
    return [
        {
            "scenario": str(r["scenario"]),
            "workload": workload_label(r["workload"]),
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
    counts = (
        retried.groupby(["scenario", "workload", "metric"], sort=False, observed=True)
        .size()
        .reset_index(name="n")
    )
    return [
        {
            "scenario": str(r["scenario"]),
            "workload": workload_label(r["workload"]),
            "metric": str(r["metric"]),
            "count": str(r["n"]),
        }
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
            "workload": workload_label(n.workload),
            "metric": n.metric,
            "statistic": n.statistic,
            "reason": n.reason,
        }
        for n in analysis.notes
    ]


def _significant(row: Mapping[str, Any], alpha: float) -> bool:
    p = row.get("p_holm")
    return p is not None and not missing(p) and float(p) < alpha


def ranked_comparisons(analysis: Analysis) -> list[dict[str, Any]]:
    """The comparisons, significant ones first, each group by decreasing |median change|
    (rows without a change last, in table order)."""
    alpha = analysis.options.alpha

    def key(row: Mapping[str, Any]) -> tuple[bool, bool, float]:
        change = row["change_median_pct"]
        size = 0.0 if missing(change) else abs(float(change))
        return (not _significant(row, alpha), missing(change), -size)

    return sorted(records(analysis.comparisons), key=key)


#: Overheads named in the synthesis' leading sentence, at most.
LEADING_OVERHEADS = 3


def leading_sentence(analysis: Analysis) -> str | None:
    """The largest significant overheads in one sentence (None when there is none)."""
    costs = []
    for row in ranked_comparisons(analysis):
        if not _significant(row, analysis.options.alpha) or missing(row["change_median_pct"]):
            continue
        metric = metric_info(str(row["metric"]), analysis.units.get(str(row["metric"])) or None)
        change = float(row["change_median_pct"])
        if not is_worse(change, metric):
            continue
        workload = _text(row.get("workload"))
        pct = pct_digits(analysis.decimals(workload, metric.name), row["median_baseline"])
        cost = fmt_pct(overhead_pct(change, metric), signed=False, decimals=pct)
        costs.append(
            f"{series_name(metric.name, workload)} in {row['scenario']} ({cost} "
            f"{'slower' if metric.kind.value in ('throughput', 'time') else 'worse'})"
        )
    if not costs:
        return None
    shown = costs[:LEADING_OVERHEADS]
    more = f"; {len(costs) - len(shown)} more below" if len(costs) > len(shown) else ""
    return f"Largest significant overheads against {analysis.baseline}: {'; '.join(shown)}{more}."


def synthesis(analysis: Analysis) -> list[str]:
    """The largest significant overheads first, then one sentence per comparison:
    significant ones first, by decreasing |median change|."""
    notes = [n for n in analysis.notes if n.table is NoteTable.COMPARISONS]
    sentences = []
    lead = leading_sentence(analysis)
    if lead is not None:
        sentences.append(lead)
    for row in ranked_comparisons(analysis):
        metric = metric_info(str(row["metric"]), analysis.units.get(str(row["metric"])) or None)
        workload = _text(row.get("workload"))
        reasons = notes_for(notes, str(row["scenario"]), metric.name, workload)
        sentences.append(
            synthesis_sentence(
                row,
                metric,
                alpha=analysis.options.alpha,
                reasons=reasons,
                decimals=analysis.decimals(workload, metric.name),
            )
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
    """Every fact of ``data``; a toolchain's Debian packages share one row
    ("<prefix> Debian packages (n)": "name version, …")."""
    pairs: list[tuple[str, str]] = []
    packages: dict[str, list[str]] = {}
    for key, value in flatten(data):
        prefix, sep, package = key.partition(_DEB)
        if sep:
            if prefix not in packages:
                packages[prefix] = []
                pairs.append((prefix + _DEB, ""))
            packages[prefix].append(f"{package} {value}")
        else:
            pairs.append((key, value))
    facts = tuple(
        (f"{k.removesuffix(_DEB)} Debian packages ({len(packages[k.removesuffix(_DEB)])})",
         ", ".join(packages[k.removesuffix(_DEB)]))
        if k.endswith(_DEB) and not v
        else (k, v)
        for k, v in pairs
    )  # fmt: skip
    return FactGroup(title, facts)


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
    workloads = {w for w, _ in results.series if w}
    shape = f"{len(results.scenarios)} scenarios × {len(results.metrics)} metrics"
    if workloads:
        shape += f" in {len(workloads)} workloads ({len(results.series)} series)"
    return (
        f"{total} rows: {ok} with status ok (in the statistics), {total - ok} other "
        f"(counted below, left out of the statistics); {shape}"
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
