"""Names that become parts of file names and run ids: one rule for all of them."""

from __future__ import annotations

import re


def host_slug(host: str) -> str:
    """``host`` as it may appear in a run id and a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", host)
