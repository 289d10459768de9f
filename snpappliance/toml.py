"""Typed, path-aware reading of a parsed TOML document.

A :class:`Table` hands out values by key, checks their type and range, and
remembers which keys were read; :meth:`Table.finish` then rejects every key
nobody asked for. Every problem is a :class:`ConfigError` naming the file and
the TOML path of the offending key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from snpappliance.errors import ConfigError

E = TypeVar("E", bound=StrEnum)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_SIZE = re.compile(r"^[1-9][0-9]*[KMGT]?$")
_MISSING = object()


def fail(source: str, path: str, problem: str, *, hint: str | None = None) -> NoReturn:
    """Raise the :class:`ConfigError` for ``path`` in ``source``."""
    where = f"{source}: {path}" if path else source
    raise ConfigError(
        f"{where}: {problem}",
        hint=hint or "fix the spec; `snpapp campaign init` writes a commented example",
    )


class Table:
    """One TOML table, read key by key."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str) -> None:
        self._data = data
        self.source = source
        self._prefix = prefix
        self._read: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def names(self) -> Iterator[str]:
        return iter(list(self._data))

    def _get(self, key: str, default: object) -> object:
        self._read.add(key)
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            fail(self.source, self.path(key), "is required but missing")
        return default

    def _bad(self, key: str, value: object, expected: str) -> NoReturn:
        fail(self.source, self.path(key), f"must be {expected}, not {value!r}")

    def table(self, key: str, *, required: bool = True) -> Table:
        value = self._get(key, _MISSING if required else {})
        if not isinstance(value, dict):
            self._bad(key, value, "a table")
        return Table(value, self.source, self.path(key))

    def array_of_tables(self, key: str) -> list[Table]:
        value = self._get(key, _MISSING)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self._bad(key, value, "an array of tables ([[...]])")
        return [Table(v, self.source, f"{self.path(key)}[{i}]") for i, v in enumerate(value)]

    def string(self, key: str, default: str | object = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            self._bad(key, value, "a string")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self._bad(key, value, "a non-empty string")
        return value

    def name_string(self, key: str) -> str:
        value = self.string(key)
        if not _NAME.match(value):
            self._bad(key, value, "a short name of lower-case letters, digits, '-', '_' or '.'")
        return value

    def size(self, key: str, default: str) -> str:
        value = self.string(key, default)
        if not _SIZE.match(value):
            self._bad(key, value, "a size such as '1M' or '10G'")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self._bad(key, value, "true or false")
        return value

    def integer(
        self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            self._bad(key, value, "an integer")
        self._check_range(key, value, minimum, maximum)
        return value

    def optional_integer(
        self, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._get(key, None)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self._bad(key, value, "an integer")
        self._check_range(key, value, minimum, maximum)
        return value

    def number(self, key: str, default: float, *, minimum: float | None = None) -> float:
        value = self._get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            self._bad(key, value, "a number")
        self._check_range(key, value, minimum, None)
        return float(value)

    def choice(self, key: str, enum: type[E], default: E | object = _MISSING) -> E:
        value = self._get(key, default)
        if isinstance(value, enum):
            return value
        if not isinstance(value, str) or value not in {e.value for e in enum}:
            allowed = ", ".join(repr(e.value) for e in enum)
            self._bad(key, value, f"one of {allowed}")
        return enum(value)

    def string_list(
        self, key: str, default: tuple[str, ...], *, choices: tuple[str, ...]
    ) -> tuple[str, ...]:
        value = self._get(key, list(default))
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self._bad(key, value, "a non-empty list of strings")
        unknown = [v for v in value if v not in choices]
        if unknown:
            self._bad(key, unknown[0], f"one of {', '.join(map(repr, choices))}")
        return tuple(value)

    def _check_range(
        self, key: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and value < minimum:
            self._bad(key, value, f"at least {minimum:g}")
        if maximum is not None and value > maximum:
            self._bad(key, value, f"at most {maximum:g}")

    def finish(self) -> None:
        """Reject keys that were never read (typos, options that do not exist)."""
        unknown = [k for k in self._data if k not in self._read]
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            fail(
                self.source, self.path(unknown[0]), "unknown key", hint=f"known keys here: {known}"
            )
