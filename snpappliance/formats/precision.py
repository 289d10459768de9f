"""How many digits a number measured by snpapp is shown with: one rule for every reader.

The rule: a quantity is shown to the decimal place of its data's *resolution*, the
finest decimal any of its recorded values uses (``5.13`` and ``5.2`` give 0.01),
capped so that the largest value shows at most :data:`MAX_SIGNIFICANT` significant
digits (a latency computed as ns/1000 has noise digits, not resolution). Every
location statistic (mean, median, quartiles, min, max) and both bounds of a CI are
shown with those decimals, so a CI has the digits of its mean. A spread (std, IQR,
SEM) gets the same decimals, or more when that would leave it fewer than two
significant digits. A relative change in % gets the decimals the resolution supports
at the baseline's magnitude (one resolution step as a percentage of it), at most
:data:`MAX_PERCENT_DECIMALS`.

The report (tables, captions, prose) and the campaign's terminal summary both use
this module; it is standard library only.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Most significant digits the largest value of a quantity is shown with.
MAX_SIGNIFICANT = 7
#: Most decimals of a relative change in %.
MAX_PERCENT_DECIMALS = 2
#: Significant digits a spread keeps even when it is finer than the data's resolution.
SPREAD_SIGNIFICANT = 2


def _decimals(value: float) -> int:
    """Decimal places of the shortest text that reads back as ``value`` (0 for 120.0)."""
    try:
        exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    except InvalidOperation:
        return 0
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _magnitude(value: float) -> int:
    return math.floor(math.log10(abs(value)))


def resolution_decimals(values: Iterable[float], *, largest: float | None = None) -> int:
    """Decimal places of the resolution of ``values`` (finite ones; 0 when there are none).

    ``largest`` is the largest magnitude among them when the caller knows it already;
    passing unique values is enough (and faster): repeats do not change the answer.
    """
    finite = [v for v in values if math.isfinite(v)]
    top = largest if largest is not None else max((abs(v) for v in finite), default=0.0)
    cap = MAX_SIGNIFICANT - 1 - _magnitude(top) if top > 0 else MAX_SIGNIFICANT - 1
    cap = max(0, cap)
    found = 0
    for value in finite:
        found = max(found, _decimals(value))
        if found >= cap:
            return cap
    return found


def fixed(value: float, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals (ASCII minus, never "-0")."""
    text = f"{value:.{max(0, decimals)}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def spread_decimals(value: float, decimals: int) -> int:
    """``decimals``, or more when a non-zero spread would show fewer than two significant
    digits."""
    if value == 0 or not math.isfinite(value):
        return max(0, decimals)
    return max(decimals, SPREAD_SIGNIFICANT - 1 - _magnitude(value), 0)


def percent_decimals(decimals: int, reference: float) -> int:
    """Decimals of a change in % of ``reference`` for data resolved to ``decimals``.

    One resolution step is 100·10^−decimals/|reference| %; the change is shown to the
    first decimal that step reaches, between 0 and :data:`MAX_PERCENT_DECIMALS`.
    """
    if reference == 0 or not math.isfinite(reference):
        return MAX_PERCENT_DECIMALS
    step = 100.0 * 10.0 ** (-decimals) / abs(reference)
    return min(MAX_PERCENT_DECIMALS, max(0, math.ceil(-math.log10(step))))
