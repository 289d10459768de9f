"""What each compared campaign is called: the name in its spec, else its directory's name.

Names that two campaigns share are told apart by their directory (or file)
name, then, if that is shared too, by their position on the command line.
Every label of an emulated campaign carries :data:`EMULATED_SUFFIX`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from snpappliance.formats.campaigndir import RESULTS_FILE, SPEC_FILE
from snpappliance.toml import read_toml

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from snpappliance.formats.results import CampaignInfo

#: What an emulated campaign's numbers are, wherever they are shown.
EMULATED_NOTE = "emulated: not an SNP measurement"
#: Appended to the label of a local emulated campaign wherever the label is shown.
EMULATED_SUFFIX = f" [{EMULATED_NOTE}]"
_RESULTS_STEM = RESULTS_FILE.rsplit(".", 1)[0]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Longest label part of a campaign's report directory name.
DIR_LABEL_MAX = 48


def place_name(source: Path) -> str:
    """The directory name of a campaign; for a results file, its folder's name when the
    file is called ``results.*``, else the file's own name without suffix."""
    if source.is_dir():
        return source.resolve().name
    if source.stem == _RESULTS_STEM and source.resolve().parent.name:
        return source.resolve().parent.name
    return source.stem


def spec_name(source: Path, info: CampaignInfo | None) -> str | None:
    """The campaign name its spec records (``campaign.json`` profile, else
    ``campaign.toml`` ``[campaign] name``), or None."""
    if info is not None and info.profile:
        return info.profile
    spec = source / SPEC_FILE
    if not source.is_dir() or not spec.is_file():
        return None
    table = read_toml(spec, hint="restore the campaign's campaign.toml").get("campaign")
    name = table.get("name") if isinstance(table, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def distinct_labels(names: Sequence[str], places: Sequence[str]) -> list[str]:
    """``names`` made unique: a shared name gets its place, "name (place)"; a shared
    "name (place)" also gets its 1-based position on the command line, "… #2"."""
    counts = Counter(names)
    labels = [
        n if counts[n] == 1 or n == p else f"{n} ({p})" for n, p in zip(names, places, strict=True)
    ]
    counts = Counter(labels)
    return [f"{label} #{i}" if counts[label] > 1 else label for i, label in enumerate(labels, 1)]


def shown(label: str, *, emulated: bool) -> str:
    """``label`` as every table, figure and heading shows it."""
    return label + EMULATED_SUFFIX if emulated else label


def report_dir_name(position: int, label: str) -> str:
    """``<position>-<label>`` as a directory name: unique by position, readable by label."""
    safe = _UNSAFE.sub("-", label).strip("-.")[:DIR_LABEL_MAX].rstrip("-.")
    return f"{position}-{safe}" if safe else str(position)
