"""The asymptotic CI of Cliff's δ for large arms, against effsize and the bootstrap."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from snpappliance.report.load import load_results
from snpappliance.report.stats.analysis import StatsOptions, analyse, write_stats
from snpappliance.report.stats.compare import compare
from snpappliance.report.stats.effect import (
    ASYMPTOTIC_ABOVE_PAIRS,
    DeltaCiMethod,
    asymptotic_delta_ci,
    bootstrap_deltas,
    delta_ci_method,
    dominance,
)

if TYPE_CHECKING:
    from pathlib import Path

#: The example of effsize's own tests (tests/test_CliffDelta.R): δ = −0.25 and, printed
#: there, the 95 % CI [−0.7265846, 0.3890062]. That interval is the one of effsize's
#: defaults (unbiased variance, t quantile with n₁ + n₂ − 2 df); effsize's source also
#: gives the three consistent-variance terms 0.2669753, 0.447 and 1.0055556.
TREATMENT = np.array([10, 10, 20, 20, 20, 30, 30, 30, 40, 50], dtype=np.float64)
CONTROL = np.array([10, 20, 30, 40, 40, 50], dtype=np.float64)


def test_effsize_example_is_reproduced() -> None:
    moments = dominance(TREATMENT, CONTROL)
    n1, n2 = TREATMENT.size, CONTROL.size
    assert moments.delta == -0.25
    assert moments.ss_rows / (n1 - 1) == pytest.approx(0.2669753, abs=5e-8)
    assert moments.ss_cols / (n2 - 1) == pytest.approx(0.447, abs=5e-8)
    assert moments.ss_cells / ((n1 - 1) * (n2 - 1)) == pytest.approx(1.0055556, abs=5e-8)
    low, high = asymptotic_delta_ci(TREATMENT, CONTROL)
    assert low == pytest.approx(-0.7265846, abs=5e-8)
    assert high == pytest.approx(0.3890062, abs=5e-8)


def test_unbiased_variance_equals_the_dominance_matrix_formula() -> None:
    rng = np.random.default_rng(5)
    scenario = np.round(rng.normal(0.3, 1.0, 37), 1)  # rounded: many ties
    baseline = np.round(rng.normal(0.0, 1.5, 23), 1)
    matrix = np.sign(scenario[:, None] - baseline[None, :])
    d = matrix.mean()
    n1, n2 = matrix.shape
    expected = (
        n2**2 * np.sum((matrix.mean(axis=1) - d) ** 2)
        + n1**2 * np.sum((matrix.mean(axis=0) - d) ** 2)
        - np.sum((matrix - d) ** 2)
    ) / (n1 * n2 * (n1 - 1) * (n2 - 1))
    moments = dominance(scenario, baseline)
    assert moments.delta == pytest.approx(d, abs=1e-15)
    assert moments.unbiased_variance() == pytest.approx(expected, rel=1e-12)


def test_the_bootstrap_is_kept_up_to_the_threshold() -> None:
    assert ASYMPTOTIC_ABOVE_PAIRS == 5000 * 5000
    assert delta_ci_method(20, 20) is DeltaCiMethod.BOOTSTRAP
    assert delta_ci_method(5000, 5000) is DeltaCiMethod.BOOTSTRAP
    assert delta_ci_method(5000, 5001) is DeltaCiMethod.ASYMPTOTIC
    assert delta_ci_method(100, 300_000) is DeltaCiMethod.ASYMPTOTIC
    # an arm of one value has no variance estimate: bootstrap, however large the other
    assert delta_ci_method(1, 30_000_000) is DeltaCiMethod.BOOTSTRAP


@pytest.mark.parametrize(("shift", "scale"), [(0.0, 1.0), (0.25, 1.0), (0.6, 2.0)])
def test_asymptotic_and_bootstrap_cis_agree_at_the_threshold(shift: float, scale: float) -> None:
    """Both 95 % CIs, on seeded arms of 5000 and 5001 values (with ties), agree.

    Tolerance: 0.25 bootstrap standard errors per end. The Monte Carlo error of a
    2.5 % percentile from 2000 resamples is √(0.025·0.975/2000)/φ(1.96) ≈ 0.06 SE,
    and at these n the sampling distribution of δ is close to normal, so the two
    methods differ by much less than that bound unless one of them is wrong (a wrong
    variance by 10 % already moves the ends by ≈ 0.1 SE·1.96 ≈ 0.2 SE; a normal
    interval without the asymmetric correction moves them further at |δ| ≈ 0.3).
    """
    rng = np.random.default_rng(20250713)
    scenario = np.round(rng.normal(shift, scale, 5000), 2)
    baseline = np.round(rng.normal(0.0, 1.0, 5001), 2)
    deltas = bootstrap_deltas(scenario, baseline, resamples=2000, rng=rng)
    boot_low, boot_high = np.percentile(deltas, [2.5, 97.5])
    se = float(np.std(deltas, ddof=1))
    low, high = asymptotic_delta_ci(scenario, baseline)
    assert abs(low - boot_low) < 0.25 * se
    assert abs(high - boot_high) < 0.25 * se
    assert low < dominance(scenario, baseline).delta < high


def test_disjoint_large_arms_reach_the_bound() -> None:
    low, high = asymptotic_delta_ci(np.arange(6000.0) + 10_000.0, np.arange(6000.0))
    assert high == 1.0
    assert 0.99 < low < 1.0
    low, high = asymptotic_delta_ci(np.arange(6000.0), np.arange(6000.0) + 10_000.0)
    assert low == -1.0


def test_comparison_rows_name_their_ci_method() -> None:
    rng = np.random.default_rng(3)
    small, _ = compare(rng.normal(0, 1, 30), rng.normal(0, 1, 30), resamples=50, rng=rng)
    assert small["cliffs_delta_ci_method"] == "bootstrap"
    big_s, big_b = rng.normal(0.1, 1, 5001), rng.normal(0, 1, 5001)
    untouched = np.random.default_rng(9)
    large, _ = compare(big_s, big_b, resamples=2000, rng=untouched)
    assert large["cliffs_delta_ci_method"] == "asymptotic"
    assert (large["cliffs_delta_ci_low"], large["cliffs_delta_ci_high"]) == asymptotic_delta_ci(
        big_s, big_b
    )
    # the asymptotic CI draws nothing from the comparison's generator
    assert untouched.integers(0, 2**31) == np.random.default_rng(9).integers(0, 2**31)


def test_stats_files_record_the_ci_method_per_comparison(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    sizes = {"big": 5200, "small": 20}  # big: above 5 000 even after the Tukey filter
    table = pd.DataFrame(
        [
            {"scenario": scenario, "metric": metric, "value": round(value, 3)}
            for metric, n in sizes.items()
            for scenario, shift in (("off", 0.0), ("on", 0.1))
            for value in rng.normal(10.0 + shift, 1.0, n)
        ]
    )
    source = tmp_path / "results.csv"
    table.to_csv(source, index=False)
    analysis = analyse(load_results(source), options=StatsOptions(bootstrap_resamples=200))
    write_stats(analysis, tmp_path)
    with (tmp_path / "stats" / "comparisons.csv").open(encoding="utf-8") as fh:
        methods = {r["metric"]: r["cliffs_delta_ci_method"] for r in csv.DictReader(fh)}
    assert methods == {"big": "asymptotic", "small": "bootstrap"}
    summary = json.loads((tmp_path / "stats" / "summary.json").read_text(encoding="utf-8"))
    assert summary["stats_version"] == 3
    assert summary["options"]["cliffs_delta_asymptotic_above_pairs"] == ASYMPTOTIC_ABOVE_PAIRS
    for table_name in ("comparisons", "comparisons_unfiltered"):
        found = {r["metric"]: r["cliffs_delta_ci_method"] for r in summary[table_name]}
        assert found == {"big": "asymptotic", "small": "bootstrap"}
