"""``KEY=value`` lines as hosts print them (``/etc/os-release``, probe scripts)."""

from __future__ import annotations


def parse_key_values(text: str, sep: str = "=") -> dict[str, str]:
    """Every ``key<sep>value`` line of ``text``; values lose their surrounding quotes."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, found, value = line.partition(sep)
        if found:
            out[key.strip()] = value.strip().strip('"')
    return out
