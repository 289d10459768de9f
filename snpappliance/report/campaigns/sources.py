"""The campaigns of a comparison, loaded and checked before anything is computed.

Each source is a campaign directory or a results file, read by
:func:`snpappliance.report.load.load_results`. Its baseline is ``--baseline``,
else the one its campaign declares; a comparison refuses to guess it from the
order of a file's rows, because the sign of every overhead depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from snpappliance.errors import InputError
from snpappliance.report.campaigns.labels import distinct_labels, place_name, shown, spec_name
from snpappliance.report.load import ResultSet, load_results

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True, eq=False)
class Campaign:
    """One compared campaign: its results, its unique label and its baseline."""

    source: Path
    results: ResultSet
    label: str
    baseline: str
    baseline_reason: str

    @property
    def emulated(self) -> bool:
        return self.results.campaign is not None and self.results.campaign.emulated

    @property
    def shown(self) -> str:
        """The label as shown everywhere (emulated campaigns say they are not SNP data)."""
        return shown(self.label, emulated=self.emulated)

    @property
    def recorded_label(self) -> str | None:
        """The free-text label the campaign recorded (campaign.json ``label``), if any."""
        info = self.results.campaign
        return info.label if info is not None and info.label else None


def resolve_baseline(results: ResultSet, label: str, baseline: str | None) -> tuple[str, str]:
    """(baseline, how it was chosen) of one campaign, or an :class:`InputError`."""
    info = results.campaign
    if baseline is not None:
        chosen, reason = baseline, "chosen with --baseline"
    elif info is not None and info.baseline:
        chosen, reason = info.baseline, "declared by the campaign (campaign.json)"
    else:
        msg = f"campaign {label!r} ({results.source}) declares no baseline"
        raise InputError(
            msg,
            hint="a comparison needs each campaign's baseline: pass --baseline SCENARIO "
            f"(its scenarios: {', '.join(results.scenarios)})",
        )
    if chosen not in results.scenarios:
        msg = f"campaign {label!r} has no scenario {chosen!r} ({reason}) in {results.source}"
        raise InputError(
            msg,
            hint=f"its scenarios are {', '.join(results.scenarios)}; "
            "pass --baseline with a scenario every compared campaign has",
        )
    if not any(s != chosen for s in results.scenarios):
        msg = f"campaign {label!r} has only its baseline {chosen!r}: no overhead to compare"
        raise InputError(
            msg,
            hint="compare campaigns that measured at least one scenario besides the baseline",
        )
    return chosen, reason


def load_campaigns(sources: Sequence[Path], baseline: str | None) -> list[Campaign]:
    """Load every source, label it uniquely and resolve its baseline."""
    loaded = [load_results(source) for source in sources]
    places = [place_name(source) for source in sources]
    names = [
        spec_name(source, results.campaign) or place
        for source, results, place in zip(sources, loaded, places, strict=True)
    ]
    labels = distinct_labels(names, places)
    campaigns = []
    for source, results, label in zip(sources, loaded, labels, strict=True):
        chosen, reason = resolve_baseline(results, label, baseline)
        campaigns.append(Campaign(source, results, label, chosen, reason))
    return campaigns
