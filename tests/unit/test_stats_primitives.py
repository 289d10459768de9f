"""Welch, Mann–Whitney U, Cliff's δ, its bootstrap and Holm against independent values.

Every expected number is a published reference value or hand arithmetic
written out in the comments; none is taken from the code under test.
"""

from __future__ import annotations

import math
import sys
from math import comb
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import snpappliance
from snpappliance.proc import run
from snpappliance.report.stats.effect import (
    BLOCK,
    Magnitude,
    bootstrap_delta_ci,
    bootstrap_deltas,
    cliffs_delta,
    comparison_rng,
    magnitude,
)
from snpappliance.report.stats.hypothesis import MwuMethod, holm, mann_whitney, mwu_method, welch


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


# Hollander & Wolfe (1973), p. 69f., the example of R's ?wilcox.test:
#   x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)
#   y <- c(1.15, 0.88, 0.90, 0.74, 1.21)
#   wilcox.test(x, y, alternative = "g")   →   W = 35, p-value = 0.1272   (exact)
# The exact null distribution is symmetric, so the two-sided p is 2 × 0.1272.
HW_X = arr(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)
HW_Y = arr(1.15, 0.88, 0.90, 0.74, 1.21)


def test_mann_whitney_matches_r_wilcox_test_exact() -> None:
    result = mann_whitney(HW_X, HW_Y)
    assert result.method is MwuMethod.EXACT
    assert result.u == 35.0
    assert result.p == pytest.approx(2 * 0.1272, abs=1e-4)
    assert result.reason is None


def test_u_counts_ties_as_half_and_is_the_scenario_statistic() -> None:
    # scenario [1, 2, 2, 3] against baseline [2, 4]:
    #   1: below 2 and 4                → 0
    #   2: tie with 2 (½), below 4      → ½, twice → 1
    #   3: above 2, below 4             → 1
    # U = 2;  #gt = 1, #lt = 5, #tie = 2 → δ = (1 − 5)/8 = −0.5 = 2·2/8 − 1
    result = mann_whitney(arr(1, 2, 2, 3), arr(2, 4))
    assert result.u == 2.0
    assert cliffs_delta(result.u, 4, 2) == -0.5


def test_asymptotic_p_with_ties_and_continuity_by_hand() -> None:
    # R: wilcox.test(c(1, 2, 2, 3), c(2, 4), exact = FALSE, correct = TRUE)
    # n1 = 4, n2 = 2, N = 6, U = 2, E[U] = n1·n2/2 = 4.
    # Ties: the value 2 occurs t = 3 times → Σ(t³ − t) = 24.
    # Var[U] = n1·n2/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))) = 8/12 · (7 − 24/30) = 4.1333…
    # z = (|U − E[U]| − ½)/√Var = 1.5/2.03306… = 0.73780…; p = 2·(1 − Φ(z)) = erfc(z/√2) = 0.4606…
    variance = 8 / 12 * (7 - 24 / 30)
    z = 1.5 / math.sqrt(variance)
    expected = math.erfc(z / math.sqrt(2))
    result = mann_whitney(arr(1, 2, 2, 3), arr(2, 4))
    assert result.method is MwuMethod.ASYMPTOTIC
    assert result.p == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.4606, abs=1e-4)


def test_case_study_trap_u_zero_means_delta_minus_one() -> None:
    # The case study printed |δ| = 0.88 next to U = 0 at n = 20/20; U = 0 means every
    # scenario value lies below every baseline value: δ = 2·0/400 − 1 = −1, exactly.
    # Exact two-sided p: only one arrangement of 40 ranks gives U = 0 (and one U = 400),
    # so p = 2 / C(40, 20) = 1.4508889…e−11.
    sev_on = np.linspace(90.0, 99.5, 20)
    sev_off = np.linspace(100.0, 109.5, 20)
    result = mann_whitney(sev_on, sev_off)
    assert result.u == 0.0
    assert result.method is MwuMethod.EXACT
    assert result.p == pytest.approx(2 / comb(40, 20), rel=1e-9)
    delta = cliffs_delta(result.u, 20, 20)
    assert delta == -1.0
    assert magnitude(delta) is Magnitude.LARGE


def test_benchmarking_reference_check_u_110() -> None:
    # benchmarking.md §4: U₁ = 110, n = 20/20 → δ = 2·110/400 − 1 = −0.45
    assert cliffs_delta(110.0, 20, 20) == pytest.approx(-0.45, abs=1e-15)


def test_direction_scenario_larger_gives_positive_signs() -> None:
    scenario, baseline = arr(5, 6, 7, 8), arr(1, 2, 3, 4)
    u = mann_whitney(scenario, baseline)
    assert u.u == 16.0  # every one of the 4·4 pairs has the scenario value larger
    assert cliffs_delta(u.u, 4, 4) == 1.0
    assert welch(scenario, baseline).t > 0


@pytest.mark.parametrize(
    ("scenario", "baseline", "expected"),
    [
        (np.arange(20.0), np.arange(20.0) + 0.5, MwuMethod.EXACT),  # no ties, n < 50
        (np.arange(20.0), np.arange(20.0) + 1.0, MwuMethod.ASYMPTOTIC),  # 19 shared values
        (np.arange(20.0), arr(*range(19), 18.5), MwuMethod.ASYMPTOTIC),  # 18 shared
        (np.arange(49.0), np.arange(49.0) + 0.5, MwuMethod.EXACT),  # n = 49: still exact
        (np.arange(50.0), np.arange(49.0) + 0.5, MwuMethod.ASYMPTOTIC),  # n = 50
        (np.arange(30.0), np.arange(50.0) + 0.5, MwuMethod.ASYMPTOTIC),  # the other n = 50
        (arr(1, 1, 2), arr(3, 4), MwuMethod.ASYMPTOTIC),  # a tie within one arm
    ],
)
def test_exact_asymptotic_switch(
    scenario: np.ndarray, baseline: np.ndarray, expected: MwuMethod
) -> None:
    assert mwu_method(scenario, baseline) is expected
    assert mann_whitney(scenario, baseline).method is expected


def test_welch_matches_textbook_examples() -> None:
    # Welch (1947) examples as tabulated on Wikipedia, "Welch's t-test", examples 1 and 2:
    #   ex. 1: Welch t = −2.46, ν = 25.0, p = 0.021
    #   ex. 2: Welch t = −1.57, ν = 9.9,  p = 0.149
    a1 = arr(27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
             21.4)  # fmt: skip
    a2 = arr(27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
             24.4)  # fmt: skip
    ex1 = welch(a1, a2)
    assert (round(ex1.t, 2), round(ex1.df, 1), round(ex1.p, 3)) == (-2.46, 25.0, 0.021)
    b1 = arr(17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8)
    b2 = arr(21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5,
             23.6, 21.5, 22.5, 23.5, 21.5, 21.8)  # fmt: skip
    ex2 = welch(b1, b2)
    assert (round(ex2.t, 2), round(ex2.df, 1), round(ex2.p, 3)) == (-1.57, 9.9, 0.149)


def test_welch_by_hand_unequal_n() -> None:
    # scenario [1, 2, 3]: mean 2, var 1;  baseline [2, 4, 6, 8]: mean 5, var 20/3
    # se² = 1/3 + (20/3)/4 = 2 → t = (2 − 5)/√2
    # df = se⁴ / ((1/3)²/2 + (5/3)²/3) = 4 / (1/18 + 25/27) = 216/53
    result = welch(arr(1, 2, 3), arr(2, 4, 6, 8))
    assert result.t == pytest.approx(-3 / math.sqrt(2), rel=1e-12)
    assert result.df == pytest.approx(216 / 53, rel=1e-12)
    assert 0.05 < result.p < 0.2


def test_welch_degenerate_cases_give_reasons() -> None:
    short = welch(arr(1.0), arr(1, 2, 3))
    assert math.isnan(short.t)
    assert math.isnan(short.p)
    assert short.reason == "Welch's t needs n ≥ 2 in both arms (n_baseline = 3, n_scenario = 1)"
    flat = welch(arr(2, 2, 2), arr(3, 3))
    assert math.isnan(flat.df)
    assert flat.reason == "Welch's t is undefined: both arms have zero variance"
    one_flat = welch(arr(2, 2, 2), arr(3, 4))  # one zero-variance arm is fine
    assert math.isfinite(one_flat.t)
    assert one_flat.reason is None


def test_mann_whitney_all_values_equal() -> None:
    result = mann_whitney(arr(7, 7, 7), arr(7, 7))
    assert result.u == 3.0  # every one of the 6 pairs is a tie: ½ each
    assert math.isnan(result.p)
    assert result.method is None
    assert result.reason == "Mann–Whitney p is undefined: all 5 pooled values are equal"


def test_holm_known_vector() -> None:
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max so far 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)


def test_holm_caps_at_one_and_skips_nan() -> None:
    # family of 3 (the NaN is not counted): 0.2·3 = 0.6, 0.5·2 = 1.0, 0.9·1 → max 1.0
    adjusted = holm([0.5, math.nan, 0.2, 0.9])
    assert math.isnan(adjusted[1])
    assert adjusted[[0, 2, 3]] == pytest.approx([1.0, 0.6, 1.0])
    assert np.isnan(holm([math.nan, math.nan])).all()
    assert holm([]).size == 0


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (0.0, Magnitude.NEGLIGIBLE),
        (-0.146, Magnitude.NEGLIGIBLE),
        (0.147, Magnitude.SMALL),
        (-0.329, Magnitude.SMALL),
        (0.33, Magnitude.MEDIUM),
        (0.4739, Magnitude.MEDIUM),
        (-0.474, Magnitude.LARGE),
        (1.0, Magnitude.LARGE),
    ],
)
def test_magnitude_thresholds(delta: float, label: Magnitude) -> None:
    assert magnitude(delta) is label


def test_magnitude_of_undefined_delta() -> None:
    assert magnitude(math.nan) is None
    assert math.isnan(cliffs_delta(3.0, 0, 4))


def _brute_force_deltas(
    scenario: npt.NDArray[np.float64], baseline: npt.NDArray[np.float64], resamples: int, seed: int
) -> npt.NDArray[np.float64]:
    """The O(n₁n₂) δ of every resample, drawing indices in the documented order."""
    rng = np.random.default_rng(seed)
    baseline = np.sort(baseline)
    out = []
    for start in range(0, resamples, BLOCK):
        rows = min(BLOCK, resamples - start)
        b_idx = rng.integers(0, baseline.size, size=(rows, baseline.size))
        s_idx = rng.integers(0, scenario.size, size=(rows, scenario.size))
        for b_row, s_row in zip(b_idx, s_idx, strict=True):
            s, b = scenario[s_row][:, None], baseline[b_row][None, :]
            out.append(((s > b).sum() - (s < b).sum()) / (s.size * b.size))
    return np.array(out)


def test_bootstrap_counting_equals_pairwise_definition() -> None:
    data = np.random.default_rng(3)
    scenario = data.integers(0, 8, 23).astype(float)  # many ties on purpose
    baseline = data.integers(2, 12, 17).astype(float)
    fast = bootstrap_deltas(scenario, baseline, resamples=300, rng=np.random.default_rng(11))
    slow = _brute_force_deltas(scenario, baseline, 300, 11)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-15)


def test_bootstrap_ci_is_reproducible_and_contains_delta() -> None:
    data = np.random.default_rng(4)
    scenario, baseline = data.normal(10.3, 1, 20), data.normal(10, 1, 20)
    delta = cliffs_delta(mann_whitney(scenario, baseline).u, 20, 20)

    def ci(seed: int) -> tuple[float, float]:
        rng = comparison_rng(seed, "cpu_perf", "sev_off", "sev_on")
        return bootstrap_delta_ci(scenario, baseline, resamples=2000, rng=rng)

    first, again, other = ci(20250713), ci(20250713), ci(1)
    assert first == again
    assert first != other
    assert first[0] < delta < first[1]
    assert -1.0 <= first[0] < first[1] <= 1.0


def test_bootstrap_of_empty_arm_is_nan() -> None:
    low, high = bootstrap_delta_ci(arr(), arr(1, 2), resamples=10, rng=np.random.default_rng(0))
    assert math.isnan(low)
    assert math.isnan(high)


def test_comparison_seed_does_not_depend_on_python_hash_salt() -> None:
    code = (
        "from snpappliance.report.stats.effect import comparison_rng;"
        "print(comparison_rng(7, 'wall_s', 'off', 'on').integers(0, 2**62))"
    )
    env = {"PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(snpappliance.__file__).parents[1])}
    out = run([sys.executable, "-c", code], env=env, timeout=60).stdout
    assert int(out) == comparison_rng(7, "wall_s", "off", "on").integers(0, 2**62)
    assert comparison_rng(7, "wall_s", "off", "on").integers(0, 2**62) != comparison_rng(
        7, "wall_s", "off", "other"
    ).integers(0, 2**62)


def test_nearly_identical_data_raises_no_warning() -> None:
    # scipy warns "precision loss … nearly identical data" here; pytest turns warnings
    # into errors, so this passes only if nothing escapes.
    result = welch(arr(1.1, 1.1, 1.1, 1.1 + 2e-16), arr(1.1, 1.1, 1.2))
    assert result.reason is None
    assert result.t < 0
