"""A PDF read as a person reads it: its text, page by page, from poppler's pdftotext."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snpappliance import proc
from tests.conftest import require_program

if TYPE_CHECKING:
    from pathlib import Path


def pdf_pages(pdf: Path, *, layout: bool = True) -> list[str]:
    """Each page's text, empty pages included; ``layout`` keeps the columns in place."""
    argv = [require_program("pdftotext"), *(["-layout"] if layout else []), str(pdf), "-"]
    return proc.run(argv).stdout.split("\f")[:-1]


def pdf_text(pdf: Path) -> str:
    """The whole text with all whitespace removed (line breaks fall anywhere)."""
    return squash("".join(pdf_pages(pdf)))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def spaced(text: str) -> str:
    """``text`` with every run of whitespace as one space."""
    return re.sub(r"\s+", " ", text)
