"""The kernel's CPU list syntax (``0-3,8,10-11``), as in sysfs ``*_list`` files and taskset."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def parse_cpulist(text: str) -> tuple[int, ...]:
    """The sorted CPUs of ``text`` (``"0-2,5"`` → ``(0, 1, 2, 5)``; empty text → none).

    Raises ValueError for anything that is not a CPU list.
    """
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        first, sep, last = part.partition("-")
        start, end = int(first), int(last) if sep else int(first)
        if start < 0 or end < start:
            msg = f"not a CPU range: {part!r}"
            raise ValueError(msg)
        cpus.update(range(start, end + 1))
    return tuple(sorted(cpus))


def format_cpulist(cpus: Iterable[int]) -> str:
    """The shortest CPU list for ``cpus`` (``(0, 1, 2, 5)`` → ``"0-2,5"``)."""
    ranges: list[str] = []
    ordered = sorted(set(cpus))
    start = prev = None
    for cpu in [*ordered, None]:
        if cpu is not None and prev is not None and cpu == prev + 1:
            prev = cpu
            continue
        if start is not None and prev is not None:
            ranges.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = cpu
    return ",".join(ranges)
