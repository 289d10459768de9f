"""Words and numbers for people: human formatting and the prose generated from the statistics.

Full precision stays in ``stats/*.csv``; everything here is for the PDF/HTML
only. Sentences are direction-aware: a throughput metric (higher is better)
that drops is "slower", a time metric (lower is better) that grows is too.

Numbers of a measured quantity follow one rule (:mod:`snpappliance.formats.precision`):
the decimals of the data's resolution for every location statistic and CI bound, at
least two significant digits for a spread. The ``*_at`` functions apply it; ``fmt_num``
(fixed significant digits) is left for numbers without a resolution.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from snpappliance.formats.precision import fixed, percent_decimals, spread_decimals
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


def fmt_at(x: object, decimals: int | None) -> str:
    """A location statistic (or CI bound) of a quantity resolved to ``decimals`` decimals;
    ``fmt_num`` when the resolution is unknown (None)."""
    if decimals is None:
        return fmt_num(x)
    return DASH if missing(x) else _sign(fixed(float(x), decimals))  # type: ignore[arg-type]


def fmt_spread_at(x: object, decimals: int | None) -> str:
    """A spread (std, IQR, SEM): the data's decimals, or two significant digits if finer."""
    if decimals is None:
        return fmt_spread(x)
    if missing(x):
        return DASH
    value = float(x)  # type: ignore[arg-type]
    return _sign(fixed(value, spread_decimals(abs(value), decimals)))


def fmt_ci_at(low: object, high: object, decimals: int | None) -> str:
    """A CI of a mean, both bounds with the digits of the mean."""
    return fmt_ci(low, high, lambda v: fmt_at(v, decimals))


def pct_digits(decimals: int | None, reference: object) -> int | None:
    """Decimals of a change in % of ``reference`` (None: the default rule of fmt_pct)."""
    if decimals is None or missing(reference):
        return None
    return percent_decimals(decimals, float(reference))  # type: ignore[arg-type]


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


def fmt_pct(x: object, *, signed: bool = True, decimals: int | None = None) -> str:
    """A percentage change with ``decimals`` decimals (see :func:`pct_digits`); without
    them two decimals below 10 %, one above; − for minus."""
    if missing(x):
        return DASH
    value = float(x)  # type: ignore[arg-type]
    shown = value if signed else abs(value)
    if decimals is None:
        decimals = 2 if abs(value) < 10 else 1
    text = f"{shown:+.{decimals}f}"
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


#: Between a workload and its metric in a series' name.
SERIES_SEP = " · "


def series_name(metric: str, workload: str = "") -> str:
    """ "randread · fio_read_iops", or the metric alone when no workload is named."""
    return f"{workload}{SERIES_SEP}{metric}" if workload else metric


def split_series(name: str) -> tuple[str, str]:
    """(workload, metric) of a :func:`series_name` ("" for no workload)."""
    workload, sep, metric = name.rpartition(SERIES_SEP)
    return (workload, metric) if sep else ("", name)


def metric_phrase(metric: Metric, workload: str = "") -> str:
    """ "cpu_perf (events/s, higher is better)"; with a workload
    "fio_read_iops of randread (IOPS, higher is better)"."""
    unit = f"{metric.unit}, " if metric.unit else ""
    of = f" of {workload}" if workload else ""
    return f"{metric.name}{of} ({unit}{metric.direction.better_word})"


def _with_unit(text: str, metric: Metric) -> str:
    return f"{text} {metric.unit}" if metric.unit else text


def is_worse(change_pct: float, metric: Metric) -> bool:
    """Whether a median change of the scenario is a cost (slower, more loss, …)."""
    return change_pct < 0 if metric.direction is Direction.HIGHER else change_pct > 0


def overhead_pct(change_pct: float, metric: Metric) -> float:
    """The change signed so that positive is a cost whatever the metric's direction."""
    return -change_pct if metric.direction is Direction.HIGHER else change_pct


def change_words(change_pct: float, metric: Metric, decimals: int | None = None) -> str:
    """ "0.60 % slower … (lower throughput)" style wording for a median change.

    Throughputs (higher is better) say "faster/slower"; other higher-is-better metrics
    and lower-is-better ones that are not times say "better/worse".
    """
    amount = fmt_pct(change_pct, signed=False, decimals=decimals)
    larger = change_pct > 0
    better = not is_worse(change_pct, metric)
    if metric.direction is Direction.HIGHER:
        speed = metric.kind.value == "throughput"
        what = "higher" if larger else "lower"
        what += " throughput" if speed else f" {metric.name}"
    else:
        speed = metric.kind.value == "time"
        what = (
            ("more time" if larger else "less time")
            if speed
            else (f"higher {metric.name}" if larger else f"lower {metric.name}")
        )
    words = ("faster", "slower") if speed else ("better", "worse")
    return f"{amount} {words[0] if better else words[1]} ({what})"


def notes_for(
    notes: Iterable[Any], scenario: str | None, metric: str, workload: str = ""
) -> list[str]:
    """Reasons recorded for empty statistics of one comparison (or of the whole series)."""
    return [
        f"{n.statistic}: {n.reason}"
        for n in notes
        if n.metric == metric
        and getattr(n, "workload", "") == workload
        and n.scenario in (scenario, None)
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
    row: Mapping[str, Any],
    metric: Metric,
    *,
    alpha: float,
    reasons: Sequence[str] = (),
    decimals: int | None = None,
) -> str:
    """One sentence for one comparison row (a row of ``comparisons.csv``).

    ``decimals`` is the resolution of the series (None: fixed significant digits).
    """
    scenario, baseline = str(row["scenario"]), str(row["baseline"])
    workload = "" if missing(row.get("workload")) else str(row.get("workload"))
    phrase = metric_phrase(metric, workload)
    why = f" ({'; '.join(reasons)})" if reasons else ""
    pct = pct_digits(decimals, row["median_baseline"])
    medians = (
        f"median {_with_unit(fmt_at(row['median_scenario'], decimals), metric)} vs "
        f"{_with_unit(fmt_at(row['median_baseline'], decimals), metric)}"
    )
    change_text = fmt_pct(row["change_median_pct"], decimals=pct)
    if missing(row["change_median_pct"]):
        return (
            f"{scenario} cannot be compared with {baseline} in {phrase}: "
            f"the median change is empty{why or ' (an arm has no values)'}."
        )
    if missing(row["p_holm"]):
        return (
            f"{scenario} vs {baseline} in {phrase}: {medians} "
            f"({change_text}), but no significance test could be "
            f"made{why or ' (the Mann–Whitney p-value is empty)'}."
        )
    if float(row["p_holm"]) >= alpha:
        return (
            f"No significant difference between {scenario} and {baseline} in "
            f"{phrase}: {medians} ({change_text}); "
            f"{_evidence(row)}; Holm-adjusted p ≥ α = {alpha:g}."
        )
    change = float(row["change_median_pct"])
    if change == 0:
        return (
            f"{scenario} and {baseline} have the same median in {phrase} "
            f"({medians}), yet their distributions differ: {_evidence(row)}."
        )
    return (
        f"{scenario} is {change_words(change, metric, pct)} than {baseline} in "
        f"{phrase}: {medians}; {_evidence(row)}."
    )


def kde_note_text(notes: Sequence[str]) -> str:
    return f" Not drawn: {'; '.join(notes)}." if notes else ""


def _median_list(medians: Mapping[str, float], metric: Metric, decimals: int | None) -> str:
    return ", ".join(f"{s} {_with_unit(fmt_at(v, decimals), metric)}" for s, v in medians.items())


def _change_list(comparisons: Sequence[Mapping[str, Any]], decimals: int | None) -> str:
    parts = [
        f"{r['scenario']} "
        f"{fmt_pct(r['change_median_pct'], decimals=pct_digits(decimals, r['median_baseline']))}"
        f" (δ = {fmt_delta(r['cliffs_delta'])}"
        f"{'' if missing(r.get('magnitude')) else ', ' + str(r['magnitude'])})"
        for r in comparisons
    ]
    return "; ".join(parts)


def histogram_caption(
    metric: Metric,
    medians: Mapping[str, float],
    comparisons: Sequence[Mapping[str, Any]],
    notes: Sequence[str],
    decimals: int | None = None,
) -> str:
    side = "right" if metric.direction is Direction.HIGHER else "left"
    text = (
        f"Distribution of {metric_phrase(metric)} per scenario: filled steps are density "
        f"histograms on common bins, lines are kernel density estimates. A scenario whose "
        f"distribution lies further {side} is better. Medians after outlier filtering: "
        f"{_median_list(medians, metric, decimals)}."
    )
    if comparisons:
        text += f" Median change vs the baseline: {_change_list(comparisons, decimals)}."
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
    shown = "; ".join(f"{m} · {s} {fmt_pct(v - 100.0)}" for (m, s), v in percents.items())
    return (
        f"Every measurement as a percentage of the median of the baseline scenario "
        f"({baseline}) of its series, one ridge per series and scenario, on one common axis "
        f"(dashed line: 100 %). Ridges away from 100 % show a shift; their width shows the "
        f"spread within "
        f"a scenario. Medians relative to the baseline: {shown}.{kde_note_text(notes)}"
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
