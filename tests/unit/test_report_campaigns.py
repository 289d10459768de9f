"""`snpapp report A B …`: overheads, their differences between campaigns, labels and errors.

The statistics are checked against independent computations: scipy's
percentile bootstrap, exact bootstrap distributions of tiny samples, and Holm
adjustments worked out by hand (and as R's ``p.adjust(..., "holm")`` gives them).
Data here are seeded synthetic numbers, not measurements.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy import stats as sps

from snpappliance.errors import InputError
from snpappliance.formats.results import CampaignInfo, Direction
from snpappliance.report.campaigns.compare import check_comparable, not_compared
from snpappliance.report.campaigns.difference import (
    Difference,
    bootstrap_p,
    compare_campaigns,
    difference_of,
    with_holm,
)
from snpappliance.report.campaigns.labels import (
    EMULATED_SUFFIX,
    distinct_labels,
    place_name,
    report_dir_name,
    spec_name,
)
from snpappliance.report.campaigns.overhead import (
    Overhead,
    arm_rng,
    bootstrap_medians,
    campaign_overheads,
    measure_overhead,
    overhead_pct,
    percentile_ci,
)
from snpappliance.report.campaigns.render import (
    ci_decimals,
    emulated_banner,
    fmt_estimate,
    fmt_fixed,
    synthesis,
)
from snpappliance.report.campaigns.sources import Campaign, load_campaigns, resolve_baseline
from snpappliance.report.load import ResultSet, rows_to_frame, validate_frame

if TYPE_CHECKING:
    from collections.abc import Callable

    from snpappliance.report.campaigns.overhead import FloatArray
    from tests.conftest import SnpappRunner

Arms = dict[tuple[str, str, str], list[float]]
UNITS = {"cpu_perf": "events/s", "wall_s": "s"}


def result_set(arms: Arms, info: CampaignInfo | None = None, name: str = "r.csv") -> ResultSet:
    """A validated result set of ``{(scenario, workload, metric): values}``."""
    rows = [
        {
            "scenario": s,
            "workload": w,
            "metric": m,
            "value": v,
            "unit": UNITS.get(m, ""),
            "rep": i,
            "status": "ok",
        }
        for (s, w, m), values in arms.items()
        for i, v in enumerate(values, 1)
    ]
    path = Path(name)
    return ResultSet(frame=validate_frame(rows_to_frame(rows), path), source=path, campaign=info)


def campaign(arms: Arms, label: str = "c", baseline: str = "base") -> Campaign:
    results = result_set(arms, CampaignInfo(label, baseline=baseline))
    return Campaign(Path(label), results, label, baseline, "declared by the campaign")


def overheads_of(c: Campaign, *, outlier_filter: bool = False) -> list[Overhead]:
    return campaign_overheads(c, outlier_filter=outlier_filter, seed=7, resamples=4000)


# ---------------------------------------------------------------- overhead and direction


def test_a_positive_overhead_is_worse_in_both_directions() -> None:
    # throughput 100 -> 95 is 5 % worse; time 10 s -> 10.5 s is 5 % worse
    assert overhead_pct(100.0, 95.0, Direction.HIGHER) == pytest.approx(5.0)
    assert overhead_pct(10.0, 10.5, Direction.LOWER) == pytest.approx(5.0)
    assert overhead_pct(100.0, 110.0, Direction.HIGHER) == pytest.approx(-10.0)
    assert overhead_pct(10.0, 9.0, Direction.LOWER) == pytest.approx(-10.0)
    assert math.isnan(overhead_pct(0.0, 1.0, Direction.LOWER))


def test_direction_comes_from_the_metric_lower_is_better_for_a_time() -> None:
    c = campaign(
        {
            ("base", "w", "wall_s"): [10.0, 10.0, 10.0, 9.0, 11.0],
            ("snp", "w", "wall_s"): [11.0, 11.0, 11.0, 10.0, 12.0],
            ("base", "w", "cpu_perf"): [100.0, 100.0, 100.0, 99.0, 101.0],
            ("snp", "w", "cpu_perf"): [110.0, 110.0, 110.0, 109.0, 111.0],
        }
    )
    found = {o.metric: o for o in overheads_of(c)}
    # a time that grows 10 % is +10 % (worse); a throughput that grows 10 % is −10 % (better)
    assert found["wall_s"].direction is Direction.LOWER
    assert found["wall_s"].overhead_pct == pytest.approx(10.0)
    assert found["cpu_perf"].direction is Direction.HIGHER
    assert found["cpu_perf"].overhead_pct == pytest.approx(-10.0)
    assert found["wall_s"].ci_low <= 10.0 <= found["wall_s"].ci_high


def test_constant_arms_give_a_point_interval() -> None:
    c = campaign({("base", "", "wall_s"): [10.0] * 8, ("snp", "", "wall_s"): [10.5] * 8})
    (o,) = overheads_of(c)
    assert (o.overhead_pct, o.ci_low, o.ci_high) == pytest.approx((5.0, 5.0, 5.0))
    assert o.workload == ""


def test_the_outlier_filter_drops_values_outside_the_tukey_fences() -> None:
    base = [10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.0, 10.1]
    scenario = np.array([*base, 100.0])
    q1, q3 = np.percentile(scenario, [25, 75])
    inside = np.count_nonzero(
        (scenario >= q1 - 1.5 * (q3 - q1)) & (scenario <= q3 + 1.5 * (q3 - q1))
    )
    c = campaign({("base", "", "wall_s"): base, ("snp", "", "wall_s"): list(scenario)})
    assert overheads_of(c, outlier_filter=False)[0].n_scenario == 9
    assert overheads_of(c, outlier_filter=True)[0].n_scenario == inside < 9


def test_bootstrap_medians_follow_the_exact_bootstrap_distribution() -> None:
    # two values: a resample's median is the mean of two draws, 1, 2 or 3 with P 1/4, 1/2, 1/4
    medians = bootstrap_medians(np.array([1.0, 3.0]), 40_000, np.random.default_rng(1))
    shares = [float(np.mean(medians == v)) for v in (1.0, 2.0, 3.0)]
    assert shares == pytest.approx([0.25, 0.5, 0.25], abs=0.01)


def test_bootstrap_medians_in_chunks_equal_one_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.random.default_rng(3).normal(size=50)
    whole = bootstrap_medians(values, 300, np.random.default_rng(9))
    monkeypatch.setattr("snpappliance.report.campaigns.overhead.CHUNK_VALUES", 50 * 7)
    chunked = bootstrap_medians(values, 300, np.random.default_rng(9))
    np.testing.assert_array_equal(whole, chunked)


def _overhead_stat(direction: Direction) -> Callable[..., FloatArray]:
    """The overhead as a vectorised scipy statistic, written from its definition."""
    sign = -1.0 if direction is Direction.HIGHER else 1.0

    def stat(base: FloatArray, scen: FloatArray, axis: int = -1) -> FloatArray:
        ratio: FloatArray = np.median(scen, axis=axis) / np.median(base, axis=axis)
        return sign * 100.0 * (ratio - 1.0)

    return stat


@pytest.mark.parametrize("direction", [Direction.HIGHER, Direction.LOWER])
def test_overhead_ci_agrees_with_scipy_percentile_bootstrap(direction: Direction) -> None:
    rng = np.random.default_rng(20250713)
    base, scen = rng.normal(100.0, 4.0, 40), rng.normal(104.0, 4.0, 40)
    point, replicates = measure_overhead(
        base, scen, direction, resamples=40_000, rng=np.random.default_rng(5)
    )
    ours = percentile_ci(replicates)
    ref = sps.bootstrap(
        (base, scen),
        _overhead_stat(direction),
        n_resamples=40_000,
        method="percentile",
        vectorized=True,
        paired=False,
        rng=np.random.default_rng(6),
    ).confidence_interval
    width = ref.high - ref.low
    assert point == pytest.approx(float(_overhead_stat(direction)(base, scen)))
    assert ours[0] == pytest.approx(ref.low, abs=0.05 * width)
    assert ours[1] == pytest.approx(ref.high, abs=0.05 * width)


def test_difference_ci_agrees_with_scipy_on_four_independent_arms() -> None:
    rng = np.random.default_rng(11)
    b1, s1 = rng.normal(50.0, 2.0, 30), rng.normal(51.0, 2.0, 30)
    b2, s2 = rng.normal(60.0, 3.0, 25), rng.normal(63.0, 3.0, 25)
    o1, r1 = measure_overhead(b1, s1, Direction.LOWER, resamples=40_000, rng=arm_rng(1, "a"))
    o2, r2 = measure_overhead(b2, s2, Direction.LOWER, resamples=40_000, rng=arm_rng(1, "b"))
    low, high = percentile_ci(r2 - r1)
    stat = _overhead_stat(Direction.LOWER)

    def diff(
        x1: FloatArray, y1: FloatArray, x2: FloatArray, y2: FloatArray, axis: int = -1
    ) -> FloatArray:
        return stat(x2, y2, axis) - stat(x1, y1, axis)

    ref = sps.bootstrap(
        (b1, s1, b2, s2),
        diff,
        n_resamples=40_000,
        method="percentile",
        vectorized=True,
        paired=False,
        rng=np.random.default_rng(2),
    ).confidence_interval
    width = ref.high - ref.low
    assert o2 - o1 == pytest.approx(float(diff(b1, s1, b2, s2)))
    assert low == pytest.approx(ref.low, abs=0.05 * width)
    assert high == pytest.approx(ref.high, abs=0.05 * width)


def test_a_seed_reproduces_every_number_whatever_the_order() -> None:
    arms: Arms = {
        ("base", "w", "wall_s"): [10.0, 10.4, 9.7, 10.1, 10.3],
        ("snp", "w", "wall_s"): [10.6, 10.9, 10.2, 11.0, 10.8],
        ("tdx", "w", "wall_s"): [10.1, 10.5, 10.0, 10.2, 10.4],
    }
    first = {o.key: o for o in overheads_of(campaign(arms))}
    swapped = dict(reversed(list(arms.items())))
    again = {o.key: o for o in overheads_of(campaign(swapped))}
    for key, o in first.items():
        np.testing.assert_array_equal(o.replicates, again[key].replicates)


# ---------------------------------------------------------------- test and Holm


def test_bootstrap_p_by_hand() -> None:
    # 1 of 4 replicates ≤ 0, 3 of 4 ≥ 0: 2·min(1 + 1, 3 + 1)/(4 + 1) = 0.8
    assert bootstrap_p(np.array([-1.0, 1.0, 2.0, 3.0])) == pytest.approx(0.8)
    # all 99 above 0: 2·(0 + 1)/(99 + 1) = 0.02
    assert bootstrap_p(np.arange(1.0, 100.0)) == pytest.approx(0.02)
    # centred on 0: capped at 1
    assert bootstrap_p(np.array([-1.0, 0.0, 1.0])) == 1.0
    assert math.isnan(bootstrap_p(np.array([math.nan])))


def _difference(p: float) -> Difference:
    return Difference("w", "m", "s", "a", "b", 0.0, 0.0, 0.0, -1.0, 1.0, p)


@pytest.mark.parametrize(
    ("raw", "adjusted"),
    [
        # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
        ([0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]),
        # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm")
        ([0.01, 0.02, 0.03, 0.04, 0.05], [0.05, 0.08, 0.09, 0.09, 0.09]),
        ([0.5, 0.9], [1.0, 1.0]),
    ],
)
def test_holm_adjustment_by_hand(raw: list[float], adjusted: list[float]) -> None:
    found = [d.p_holm for d in with_holm([_difference(p) for p in raw])]
    assert found == pytest.approx(adjusted)


def _shifted(shift: float, n: int = 12, seed: int = 0) -> Arms:
    rng = np.random.default_rng(seed)
    return {
        ("base", "w", "wall_s"): list(rng.normal(10.0, 0.1, n)),
        ("snp", "w", "wall_s"): list(rng.normal(10.0 + shift, 0.1, n)),
        ("base", "w", "cpu_perf"): list(rng.normal(100.0, 1.0, n)),
        ("snp", "w", "cpu_perf"): list(rng.normal(100.0 - shift * 10, 1.0, n)),
    }


def test_later_campaigns_are_compared_with_the_first_and_holm_spans_the_report() -> None:
    found = [overheads_of(campaign(_shifted(s, seed=i), f"c{i}")) for i, s in enumerate((0, 1, 0))]
    differences = compare_campaigns(found)
    assert [(d.reference, d.campaign) for d in differences] == [("c0", "c1")] * 2 + [
        ("c0", "c2")
    ] * 2
    # an independent Holm over all four p-values
    p = [d.p_value for d in differences]
    order = sorted(range(4), key=lambda i: p[i])
    expected = [0.0] * 4
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (4 - rank) * p[i]))
        expected[i] = running
    assert [d.p_holm for d in differences] == pytest.approx(expected)
    # c1's time grew 10 % and its throughput fell 10 %: both overheads larger, significantly
    for d in differences[:2]:
        assert d.difference_pp == pytest.approx(10.0, abs=2.0)
        assert d.ci_low > 0
        assert d.p_holm < 0.05
    assert all(d.ci_low < 0 < d.ci_high for d in differences[2:])


def test_difference_is_later_minus_reference() -> None:
    c1 = overheads_of(campaign(_shifted(0.0), "a"))
    c2 = overheads_of(campaign(_shifted(0.5), "b"))
    d = difference_of(c1[0], c2[0])
    assert d.difference_pp == pytest.approx(c2[0].overhead_pct - c1[0].overhead_pct)
    assert d.ci_low < d.difference_pp < d.ci_high


# ---------------------------------------------------------------- errors


def test_campaigns_that_share_no_workload_and_metric_are_refused() -> None:
    a = campaign({("base", "x", "wall_s"): [1.0, 2.0], ("snp", "x", "wall_s"): [2.0, 3.0]}, "a")
    b = campaign({("base", "y", "wall_s"): [1.0, 2.0], ("snp", "y", "wall_s"): [2.0, 3.0]}, "b")
    with pytest.raises(InputError, match=r"share no \(workload, metric\)") as info:
        check_comparable([a, b], [overheads_of(a), overheads_of(b)])
    assert "x · wall_s" in str(info.value.detail)
    assert "y · wall_s" in str(info.value.detail)


def test_campaigns_without_a_shared_scenario_name_are_refused() -> None:
    a = campaign({("base", "x", "wall_s"): [1.0, 2.0], ("snp", "x", "wall_s"): [2.0, 3.0]}, "a")
    b = campaign({("base", "x", "wall_s"): [1.0, 2.0], ("sev", "x", "wall_s"): [2.0, 3.0]}, "b")
    with pytest.raises(InputError, match="no scenario name"):
        check_comparable([a, b], [overheads_of(a), overheads_of(b)])


def test_arms_measured_by_one_side_only_are_listed() -> None:
    a = campaign(
        {
            ("base", "x", "wall_s"): [1.0, 2.0],
            ("snp", "x", "wall_s"): [2.0, 3.0],
            ("tdx", "x", "wall_s"): [2.0, 3.0],
        },
        "a",
    )
    b = campaign({("base", "x", "wall_s"): [1.0, 2.0], ("snp", "x", "wall_s"): [2.0, 3.0]}, "b")
    assert not_compared([overheads_of(a), overheads_of(b)]) == [
        "a: x · wall_s · tdx (not measured by b)"
    ]


def test_a_results_file_without_a_baseline_is_refused() -> None:
    results = result_set({("base", "", "wall_s"): [1.0], ("snp", "", "wall_s"): [2.0]})
    with pytest.raises(InputError, match="declares no baseline") as info:
        resolve_baseline(results, "r", None)
    assert "--baseline" in str(info.value.hint)
    assert resolve_baseline(results, "r", "base") == ("base", "chosen with --baseline")


def test_a_baseline_the_campaign_did_not_run_is_refused() -> None:
    info = CampaignInfo("c", baseline="sev_off")
    results = result_set({("base", "", "wall_s"): [1.0], ("snp", "", "wall_s"): [2.0]}, info)
    with pytest.raises(InputError, match="no scenario 'sev_off'"):
        resolve_baseline(results, "c", None)
    only = result_set({("base", "", "wall_s"): [1.0]}, CampaignInfo("c", baseline="base"))
    with pytest.raises(InputError, match="only its baseline"):
        resolve_baseline(only, "c", None)


def test_the_cli_names_the_missing_baseline(snpapp: SnpappRunner, tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(
            "scenario,metric,value\nbase,wall_s,1\nsnp,wall_s,2\n", encoding="utf-8"
        )
    out = tmp_path / "out"
    code, stdout, err = snpapp(
        "report", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--out", str(out)
    )
    assert code == InputError.exit_code
    assert "declares no baseline" in " ".join(err.split())
    assert "pass --baseline SCENARIO" in " ".join(err.split())
    assert stdout == ""
    assert not out.exists()


# ---------------------------------------------------------------- labels


def test_shared_names_are_told_apart_by_place_then_position() -> None:
    assert distinct_labels(["genoa", "upstream"], ["d1", "d2"]) == ["genoa", "upstream"]
    assert distinct_labels(["local", "local", "x"], ["d1", "d2", "x"]) == [
        "local (d1)",
        "local (d2)",
        "x",
    ]
    assert distinct_labels(["r", "r"], ["r", "r"]) == ["r #1", "r #2"]
    assert distinct_labels(["n", "n"], ["d", "d"]) == ["n (d) #1", "n (d) #2"]


def test_a_campaign_is_named_by_its_spec_else_its_directory(tmp_path: Path) -> None:
    spec_dir = tmp_path / "2025-07-13-1000-genoa"
    spec_dir.mkdir()
    (spec_dir / "campaign.toml").write_text('[campaign]\nname = "genoa-2025"\n', encoding="utf-8")
    assert spec_name(spec_dir, None) == "genoa-2025"
    assert spec_name(spec_dir, CampaignInfo("x", profile="from-json")) == "from-json"
    bare = tmp_path / "bare"
    bare.mkdir()
    assert spec_name(bare, None) is None
    assert place_name(bare) == "bare"
    assert place_name(bare / "results.csv") == "bare"
    assert place_name(bare / "kernel-6.9.jsonl") == "kernel-6.9"


def test_load_campaigns_labels_duplicates_and_emulated_ones(tmp_path: Path) -> None:
    for name, emulated in (("2025-a-local", True), ("2025-b-local", False)):
        d = tmp_path / name
        d.mkdir()
        (d / "results.csv").write_text(
            "scenario,metric,value\nbaseline,wall_s,1\nsnp,wall_s,2\n", encoding="utf-8"
        )
        info = {
            "campaign_id": name,
            "baseline": "baseline",
            "profile": "local",
            "emulated": emulated,
        }
        (d / "campaign.json").write_text(json.dumps(info), encoding="utf-8")
    a, b = load_campaigns([tmp_path / "2025-a-local", tmp_path / "2025-b-local"], None)
    assert (a.label, b.label) == ("local (2025-a-local)", "local (2025-b-local)")
    assert a.shown == "local (2025-a-local)" + EMULATED_SUFFIX
    assert b.shown == "local (2025-b-local)"
    assert a.baseline == "baseline"
    assert "declared" in a.baseline_reason


def test_report_directory_names_are_safe_and_unique() -> None:
    assert report_dir_name(1, "local (2025-a-local)") == "1-local-2025-a-local"
    assert report_dir_name(2, "../..") == "2"
    assert "/" not in report_dir_name(3, "a/b")


# ---------------------------------------------------------------- numbers and words


def test_estimates_and_bounds_share_the_decimals_the_ci_supports() -> None:
    assert ci_decimals(4.0, 6.0) == 1  # half-width 1.0: two significant digits
    assert ci_decimals(0.1, 0.1246) == 3  # half-width 0.0123
    assert ci_decimals(-20.0, 8.0) == 0  # half-width 14
    assert ci_decimals(5.0, 5.0) == 2
    assert fmt_estimate(5.04321, 4.0, 6.0, "%") == "+5.0 % [+4.0, +6.0]"
    assert fmt_fixed(-0.18, 0) == "0"
    assert fmt_fixed(-3.2, 0) == "\N{MINUS SIGN}3"


def test_the_synthesis_names_significant_differences_only() -> None:
    quiet = with_holm([_difference(0.5)])
    assert "No difference of overheads is significant" in synthesis(quiet, 0.05)[0]
    loud = with_holm([Difference("w", "wall_s", "snp", "a", "b", 1.0, 4.0, 3.0, 2.0, 4.0, 0.001)])
    (sentence,) = synthesis(loud, 0.05)
    assert "wall_s (w), snp: the overhead is larger in b than in a" in sentence


def test_emulated_campaigns_are_named_in_the_banner() -> None:
    from snpappliance.report.campaigns.render import CampaignEntry

    def entry(label: str, emulated: bool) -> CampaignEntry:
        return CampaignEntry(label, label, emulated, "", "", "", "", "", "", "", "")

    assert emulated_banner([entry("a", False), entry("b", False)]) is None
    mixed = emulated_banner([entry("a", False), entry("b", True)])
    assert mixed is not None
    assert "(b)" in mixed
    assert "not SNP measurements" in mixed


def test_help_shows_the_comparison_form(snpapp: SnpappRunner) -> None:
    code, out, _ = snpapp("report", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "snpapp report campaigns/genoa-2025/ campaigns/upstream-2025/" in text
    for phrase in ("Holm", "bootstrap", "positive = worse", "first as the reference"):
        assert phrase in text
