"""The one TOML reader: files to tables, tables to frozen dataclasses, and back to TOML.

:func:`read_toml` turns a file into a document or a :class:`ConfigError` naming
the file (unreadable, not UTF-8, not TOML, nested too deeply). A :class:`Table`
hands out the values of one TOML table and rejects, on :meth:`Table.finish`,
every key nobody asked for. A frozen dataclass whose fields carry a
:class:`Rule` (``field(default=…, metadata=about("help", minimum=…))``) is read
from a table by :func:`read_fields`: each field's type comes from its
annotation, its default from the dataclass, its bounds and checks from its
rule. :func:`toml_value` writes a value back. Every problem names the file and
the TOML path of the key (``guest.vcpus``, ``scenarios[1].kind``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import reprlib
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NoReturn

from snpappliance.errors import ConfigError

if typing.TYPE_CHECKING:
    from pathlib import Path

_RULE = "snpapp.rule"
_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlevel = 2


@dataclass(frozen=True)
class Rule:
    """What a dataclass field means in TOML: help text, bounds and extra checks.

    ``help`` says what the value does, with its unit; the bounds are added to it
    wherever it is shown. ``check`` returns a problem ("must be …") or None.
    ``example`` is shown (commented) in templates for a field that is unset.
    ``only`` tags a field that applies in one case only (interpreted by its reader).
    """

    help: str
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | None] | None = None
    choices: tuple[str, ...] = ()
    example: object = None
    hex: bool = False
    only: str = ""

    def bounds(self) -> str:
        """The bounds as text ("1 to 512", "at least 1"), or ""."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{number_text(low)} to {number_text(high)}"
        if low is not None:
            return f"at least {number_text(low)}"
        return f"at most {number_text(high)}" if high is not None else ""


def number_text(value: float) -> str:
    """``value`` for people: integers in full, other numbers short."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def about(
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    check: Callable[[Any], str | None] | None = None,
    choices: tuple[str, ...] = (),
    example: object = None,
    hex: bool = False,
    only: str = "",
) -> dict[str, Rule]:
    """Field metadata holding a :class:`Rule`: ``field(default=2, metadata=about(...))``."""
    rule = Rule(help, minimum, maximum, check, choices, example, hex, only)
    return {_RULE: rule}


@dataclass(frozen=True)
class Setting:
    """One described field of a dataclass: its name, Python type, default and rule."""

    name: str
    type: Any
    optional: bool
    default: Any
    rule: Rule

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING


_SETTINGS: dict[type[Any], tuple[Setting, ...]] = {}


def settings(cls: type[Any]) -> tuple[Setting, ...]:
    """The fields of dataclass ``cls`` that carry a :class:`Rule`, in declaration order."""
    if cls not in _SETTINGS:
        _SETTINGS[cls] = _described(cls)
    return _SETTINGS[cls]


def _described(cls: type[Any]) -> tuple[Setting, ...]:
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        rule = f.metadata.get(_RULE)
        if not isinstance(rule, Rule):
            continue
        kind = hints[f.name]
        args = typing.get_args(kind)
        optional = isinstance(kind, types.UnionType) and type(None) in args
        if optional:
            kind = next(a for a in args if a is not type(None))
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None if optional else dataclasses.MISSING
        found.append(Setting(f.name, kind, optional, default, rule))
    return tuple(found)


def setting(cls: type[Any], name: str) -> Setting:
    """The described field ``name`` of ``cls``."""
    return next(s for s in settings(cls) if s.name == name)


# --- files ---------------------------------------------------------------------------------


def fail(source: str, path: str, problem: str, *, hint: str | None = None) -> NoReturn:
    """Raise the :class:`ConfigError` for ``path`` in ``source``."""
    where = f"{source}: {path}" if path else source
    msg = f"{where}: {problem}"
    raise ConfigError(msg, hint=hint)


def parse_toml(text: str, source: str, *, hint: str | None = None) -> dict[str, Any]:
    """The document in ``text``; ``source`` names it in errors."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        fail(source, "", f"is not valid TOML: {exc}", hint=hint)
    except RecursionError:
        fail(source, "", "nests too deeply to read (arrays or tables within each other)", hint=hint)


def read_toml(path: Path, *, hint: str | None = None) -> dict[str, Any]:
    """The TOML document in file ``path``, or a :class:`ConfigError` naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(str(path), "", f"cannot be read: {exc.strerror}", hint=hint)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        fail(str(path), "", f"is not UTF-8 text (line {line})", hint="save the file as UTF-8")
    return parse_toml(text, str(path), hint=hint)


# --- tables --------------------------------------------------------------------------------

_MISSING: Any = dataclasses.MISSING


class Table:
    """One TOML table, read key by key; ``hint`` goes with every error about it."""

    def __init__(
        self, data: Mapping[str, Any], source: str, prefix: str, *, hint: str | None = None
    ) -> None:
        self.data = data
        self.source = source
        self.prefix = prefix
        self.hint = hint
        self._read: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def names(self) -> Iterator[str]:
        return iter(list(self.data))

    def has(self, key: str) -> bool:
        return key in self.data

    def fail(self, key: str, problem: str, *, hint: str | None = None) -> NoReturn:
        fail(self.source, self.path(key) if key else self.prefix, problem, hint=hint or self.hint)

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """The raw value of ``key`` (``default`` when absent; required without one)."""
        self._read.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.fail(key, "is required but missing")
        return default

    def bad(self, key: str, value: object, expected: str) -> NoReturn:
        self.fail(key, f"must be {expected}, not {_SHORT.repr(value)}")

    def table(self, key: str, *, required: bool = True) -> Table:
        value = self.get(key, _MISSING if required else {})
        if not isinstance(value, dict):
            self.bad(key, value, "a table")
        return Table(value, self.source, self.path(key), hint=self.hint)

    def tables(self) -> Iterator[tuple[str, Table]]:
        """Every key of this table whose value is a table, as (key, table)."""
        for key in self.names():
            yield key, self.table(key)

    def array_of_tables(self, key: str, *, required: bool = True) -> list[Table]:
        value = self.get(key, _MISSING if required else [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.bad(key, value, "an array of tables ([[...]])")
        return [
            Table(v, self.source, f"{self.path(key)}[{i}]", hint=self.hint)
            for i, v in enumerate(value)
        ]

    def value(self, s: Setting, default: Any = _MISSING) -> Any:
        """The value of described field ``s``, type-checked and held to its rule."""
        if s.name not in self.data:  # a default is valid by construction
            return self.get(s.name, s.default if default is _MISSING else default)
        value = self._typed(s, self.get(s.name))
        problem = s.rule.check(value) if s.rule.check is not None else None
        if problem:
            self.fail(s.name, f"{problem}, not {_SHORT.repr(value)}")
        return value

    def _typed(self, s: Setting, raw: object) -> Any:
        kind, key = s.type, s.name
        if kind is bool:
            if not isinstance(raw, bool):
                self.bad(key, raw, "true or false")
            return raw
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            if isinstance(raw, kind):
                return raw
            if not isinstance(raw, str) or raw not in {e.value for e in kind}:
                self.bad(key, raw, f"one of {', '.join(repr(e.value) for e in kind)}")
            return kind(raw)
        if kind is int or kind is float:
            return self._number(s, raw)
        if kind is str:
            if not isinstance(raw, str) or (not raw and s.default != ""):
                self.bad(key, raw, "a non-empty string")
            return raw
        if typing.get_origin(kind) is tuple:
            if typing.get_args(kind)[0] is int:
                return self._integers(s, raw)
            return self._strings(s, raw)
        if typing.get_origin(kind) in (Mapping, dict):
            if not isinstance(raw, dict) or not all(
                isinstance(v, str) and v.strip() for v in raw.values()
            ):
                self.bad(key, raw, "a table of non-empty strings")
            return dict(raw)
        msg = f"{key}: no TOML reading for {kind!r}"
        raise TypeError(msg)

    def _number(self, s: Setting, raw: object) -> int | float:
        rule, key = s.rule, s.name
        if s.type is int:
            if not isinstance(raw, int) or isinstance(raw, bool):
                self.bad(key, raw, "an integer")
            value: int | float = raw
        else:
            if not isinstance(raw, int | float) or isinstance(raw, bool):
                self.bad(key, raw, "a number")
            if not math.isfinite(raw):
                self.bad(key, raw, f"a finite number ({rule.bounds() or 'not nan or inf'})")
            value = float(raw)
        if rule.minimum is not None and value < rule.minimum:
            self.bad(key, raw, f"at least {number_text(rule.minimum)}")
        if rule.maximum is not None and value > rule.maximum:
            self.bad(key, raw, f"at most {number_text(rule.maximum)}")
        return value

    def _strings(self, s: Setting, raw: object) -> tuple[str, ...]:
        may_be_empty = s.default == ()
        if (
            not isinstance(raw, list)
            or not all(isinstance(v, str) for v in raw)
            or (not raw and not may_be_empty)
        ):
            self.bad(
                s.name, raw, "a list of strings" if may_be_empty else "a non-empty list of strings"
            )
        unknown = [v for v in raw if s.rule.choices and v not in s.rule.choices]
        if unknown:
            self.bad(s.name, unknown[0], f"one of {', '.join(map(repr, s.rule.choices))}")
        return tuple(raw)

    def _integers(self, s: Setting, raw: object) -> tuple[int, ...]:
        """A list of distinct integers, each held to the setting's bounds."""
        if not isinstance(raw, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in raw
        ):
            self.bad(s.name, raw, "a list of integers")
        for value in raw:
            self._number(replace(s, type=int), value)
        if len(set(raw)) != len(raw):
            self.bad(s.name, raw, "a list without repeated values")
        return tuple(raw)

    def finish(self) -> None:
        """Reject keys that were never read (typos, options that do not exist)."""
        unknown = [k for k in self.data if k not in self._read]
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            self.fail(unknown[0], "unknown key", hint=f"known keys here: {known}")


def read_fields(
    table: Table, cls: type[Any], defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The described fields of ``cls`` read from ``table``, as keyword arguments.

    ``defaults`` replaces a field's dataclass default (a default that depends on
    other settings). Fields left None are left out, so the dataclass default applies.
    """
    values: dict[str, Any] = {}
    for s in settings(cls):
        value = table.value(s, (defaults or {}).get(s.name, _MISSING))
        if value is not None:
            values[s.name] = value
    return values


# --- writing -------------------------------------------------------------------------------


def toml_value(value: object, *, hex: bool = False) -> str:
    """``value`` as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return json.dumps(value.value)
    if isinstance(value, int):
        return f"{value:#x}" if hex and value >= 0 else repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    # JSON string escaping is valid TOML basic-string escaping.
    return json.dumps(value, ensure_ascii=False)
