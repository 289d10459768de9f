"""Words and numbers for people: human formatting and the prose generated from the statistics.

Full precision stays in ``stats/*.csv``; everything here is for the PDF/HTML
only. Sentences are direction-aware: a throughput metric (higher is better)
that drops is "slower", a time metric (lower is better) that grows is too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from snpappliance.formats.results import Direction, Metric

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

MINUS = "\N{MINUS SIGN}"
DASH = "\N{EN DASH}"
#: Significant digits for location statistics (mean, median, quantiles, CI bounds).
LOCATION_DIGITS = 6
#: Significant digits for spread statistics (std, IQR, SEM).
SPREAD_DIGITS = 4


def missing(x: object) -> bool:
    """Whether ``x`` is an empty statistic (None or NaN)."""
    if x is None:
        return True
    try:
        return math.isnan(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return x == ""


def _sign(text: str) -> str:
    return text.replace("-", MINUS, 1) if text.startswith("-") else text


def fmt_num(x: object, digits: int = LOCATION_DIGITS) -> str:
    """``x`` to ``digits`` significant digits without trailing zeros; − for minus.

    No exponent between 1e-4 and 1e9.
    """
    if missing(x):
        return DASH
    value = float(x)  # type: ignore[arg-type]
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 9:
        return _sign(f"{value:.{digits - 1}e}")
    text = f"{value:.{max(0, digits - 1 - magnitude)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _sign(text)


def fmt_spread(x: object) -> str:
    return fmt_num(x, SPREAD_DIGITS)


def fmt_int(x: object) -> str:
    return DASH if missing(x) else str(int(float(x)))  # type: ignore[arg-type]


def fmt_u(u: object) -> str:
    """A Mann–Whitney U: a whole or half number."""
    return DASH if missing(u) else f"{float(u):g}"  # type: ignore[arg-type]


def fmt_p(p: object) -> str:
    """A p-value as a reader expects it: "< 0.001", else three significant digits."""
    if missing(p):
        return DASH
    value = float(p)  # type: ignore[arg-type]
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


def p_clause(p: object) -> str:
    """ "p < 0.001" or "p = 0.0143" (for sentences)."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_pct(x: object, *, signed: bool = True) -> str:
    """A percentage change: two decimals below 10 %, one above; − for minus."""
    if missing(x):
        return DASH
    value = float(x)  # type: ignore[arg-type]
    shown = value if signed else abs(value)
    text = f"{shown:+.2f}" if abs(value) < 10 else f"{shown:+.1f}"
    if not signed:
        text = text.lstrip("+")
    return f"{_sign(text)} %"


def fmt_delta(x: object) -> str:
    """Cliff's δ with two decimals."""
    return DASH if missing(x) else _sign(f"{float(x):.2f}")  # type: ignore[arg-type]


def fmt_ci(low: object, high: object, fmt: Any = fmt_num) -> str:
    if missing(low) or missing(high):
        return DASH
    return f"[{fmt(low)}, {fmt(high)}]"


def metric_phrase(metric: Metric) -> str:
    """ "cpu_perf (events/s, higher is better)"."""
    unit = f"{metric.unit}, " if metric.unit else ""
    return f"{metric.name} ({unit}{metric.direction.better_word})"


def _with_unit(text: str, metric: Metric) -> str:
    return f"{text} {metric.unit}" if metric.unit else text


def change_words(change_pct: float, metric: Metric) -> str:
    """ "0.60 % slower … (lower throughput)" style wording for a median change."""
    amount = fmt_pct(change_pct, signed=False)
    larger = change_pct > 0
    if metric.direction is Direction.HIGHER:
        better, what = larger, ("higher throughput" if larger else "lower throughput")
    else:
        better, what = not larger, ("more time" if larger else "less time")
    return f"{amount} {'faster' if better else 'slower'} ({what})"


def notes_for(notes: Iterable[Any], scenario: str | None, metric: str) -> list[str]:
    """Reasons recorded for empty statistics of one comparison (or of the whole metric)."""
    return [
        f"{n.statistic}: {n.reason}"
        for n in notes
        if n.metric == metric and n.scenario in (scenario, None)
    ]


def _evidence(row: Mapping[str, Any]) -> str:
    method = f"{row['mwu_method']}; " if not missing(row.get("mwu_method")) else ""
    delta = f"Cliff's δ = {fmt_delta(row['cliffs_delta'])}"
    ci = fmt_ci(row["cliffs_delta_ci_low"], row["cliffs_delta_ci_high"], fmt_delta)
    how = row.get("cliffs_delta_ci_method")
    if ci != DASH:
        delta += f" (95 % CI {ci})" if missing(how) else f" (95 % {how} CI {ci})"
    magnitude = "" if missing(row.get("magnitude")) else f", {row['magnitude']}"
    return (
        f"Mann–Whitney {p_clause(row['mwu_p'])} ({method}Holm-adjusted "
        f"{p_clause(row['p_holm'])}), {delta}{magnitude}"
    )


def synthesis_sentence(
    row: Mapping[str, Any], metric: Metric, *, alpha: float, reasons: Sequence[str] = ()
) -> str:
    """One sentence for one comparison row (a row of ``comparisons.csv``)."""
    scenario, baseline = str(row["scenario"]), str(row["baseline"])
    why = f" ({'; '.join(reasons)})" if reasons else ""
    medians = (
        f"median {_with_unit(fmt_num(row['median_scenario']), metric)} vs "
        f"{_with_unit(fmt_num(row['median_baseline']), metric)}"
    )
    if missing(row["change_median_pct"]):
        return (
            f"{scenario} cannot be compared with {baseline} in {metric_phrase(metric)}: "
            f"the median change is empty{why or ' (an arm has no values)'}."
        )
    if missing(row["p_holm"]):
        return (
            f"{scenario} vs {baseline} in {metric_phrase(metric)}: {medians} "
            f"({fmt_pct(row['change_median_pct'])}), but no significance test could be "
            f"made{why or ' (the Mann–Whitney p-value is empty)'}."
        )
    if float(row["p_holm"]) >= alpha:
        return (
            f"No significant difference between {scenario} and {baseline} in "
            f"{metric_phrase(metric)}: {medians} ({fmt_pct(row['change_median_pct'])}); "
            f"{_evidence(row)}; Holm-adjusted p ≥ α = {alpha:g}."
        )
    change = float(row["change_median_pct"])
    if change == 0:
        return (
            f"{scenario} and {baseline} have the same median in {metric_phrase(metric)} "
            f"({medians}), yet their distributions differ: {_evidence(row)}."
        )
    return (
        f"{scenario} is {change_words(change, metric)} than {baseline} in "
        f"{metric_phrase(metric)}: {medians}; {_evidence(row)}."
    )


def kde_note_text(notes: Sequence[str]) -> str:
    return f" Not drawn: {'; '.join(notes)}." if notes else ""


def _median_list(medians: Mapping[str, float], metric: Metric) -> str:
    return ", ".join(f"{s} {_with_unit(fmt_num(v), metric)}" for s, v in medians.items())


def _change_list(comparisons: Sequence[Mapping[str, Any]]) -> str:
    parts = [
        f"{r['scenario']} {fmt_pct(r['change_median_pct'])} (δ = {fmt_delta(r['cliffs_delta'])}"
        f"{'' if missing(r.get('magnitude')) else ', ' + str(r['magnitude'])})"
        for r in comparisons
    ]
    return "; ".join(parts)


def histogram_caption(
    metric: Metric,
    medians: Mapping[str, float],
    comparisons: Sequence[Mapping[str, Any]],
    notes: Sequence[str],
) -> str:
    side = "right" if metric.direction is Direction.HIGHER else "left"
    text = (
        f"Distribution of {metric_phrase(metric)} per scenario: filled steps are density "
        f"histograms on common bins, lines are kernel density estimates. A scenario whose "
        f"distribution lies further {side} is better. Medians after outlier filtering: "
        f"{_median_list(medians, metric)}."
    )
    if comparisons:
        text += f" Median change vs the baseline: {_change_list(comparisons)}."
    return text + kde_note_text(notes)


def qq_caption(metric: Metric, fits: Mapping[str, float | None], notes: Sequence[str]) -> str:
    shown = ", ".join(f"{s} r = {DASH if r is None else f'{r:.3f}'}" for s, r in fits.items())
    return (
        f"Normal Q–Q plots of {metric.name}: sample values against standard-normal quantiles "
        f"with the least-squares line. Points on the line mean a normal sample; an S-shape "
        f"or bent tails mean it is not, which is why the rank-based Mann–Whitney test is the "
        f"primary test. Q–Q correlation: {shown}.{kde_note_text(notes)}"
    )


def violin_caption(counts: Mapping[tuple[str, str], tuple[int, int]], notes: Sequence[str]) -> str:
    """``counts`` maps (scenario, metric) to (runs, removed outliers)."""
    runs = [n for n, _ in counts.values()]
    removed = "; ".join(f"{s}/{m} {k}" for (s, m), (_, k) in counts.items() if k)
    size = f"{min(runs)}" if min(runs) == max(runs) else f"{min(runs)}–{max(runs)}"
    text = (
        f"Violins (kernel density, cut at the data range) with every run as a dot; red crosses "
        f"are values outside the Tukey fences, left out of the statistics. Look for shifted "
        f"bodies between scenarios and for isolated dots. {sum(runs)} runs in {len(runs)} arms "
        f"({size} per arm); removed per arm: {removed or 'none'}."
    )
    return text + kde_note_text(notes)


def ridgeline_caption(
    baseline: str, percents: Mapping[tuple[str, str], float], notes: Sequence[str]
) -> str:
    shown = "; ".join(f"{m} · {s} {fmt_num(v, 5)} %" for (m, s), v in percents.items())
    return (
        f"Every measurement as a percentage of the baseline ({baseline}) median of its "
        f"metric, one ridge per metric and scenario, on one common axis (dashed line: "
        f"100 %). Ridges away from 100 % show a shift; their width shows the spread within "
        f"a scenario. Medians in % of the baseline: {shown}.{kde_note_text(notes)}"
    )


def run_order_caption(drifts: Sequence[Any], alpha: float) -> str:
    text = (
        "Each value against its start time (or repetition number, or position in the arm "
        "when neither is recorded), one line per scenario. A trend or a step within a line "
        "would mean drift (warm-up, thermal or background effects)."
    )
    if not drifts:
        return text + " No arm has three or more distinct values to test for a trend."
    worst = max(drifts, key=lambda d: abs(d.rho))
    flagged = [d for d in drifts if d.p < alpha]
    text += (
        f" Spearman rank correlation of value with run order, strongest: {worst.scenario}/"
        f"{worst.metric} ρ = {fmt_delta(worst.rho)} ({p_clause(worst.p)}, unadjusted)."
    )
    if flagged:
        names = ", ".join(f"{d.scenario}/{d.metric}" for d in flagged)
        return text + f" Arms with a trend at α = {alpha:g}: {names}."
    return text + f" No arm shows a trend at α = {alpha:g}."
