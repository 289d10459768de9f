"""Writing a campaign spec as TOML, derived from the field table of :mod:`.specmodel`.

:func:`dump_spec` writes every value (the frozen ``campaign.toml``;
``load(dump(spec)) == spec``). :func:`spec_template` writes the commented spec
of ``snpapp campaign init``: every key of every table with its help text,
bounds and default, set where the profile sets it and commented out elsewhere.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from snpappliance.campaign.specmodel import SECTIONS, CampaignSpec, Section
from snpappliance.toml import Setting, settings, toml_value

_WIDTH = 88


def _applies(s: Setting, spec: CampaignSpec) -> bool:
    """Whether a key tagged for one guest kind applies to ``spec``'s guest."""
    return not s.rule.only or s.rule.only == spec.guest.kind.value


def _entries(section: Section, spec: CampaignSpec) -> list[Any]:
    value = section.get(spec)
    if value is None:
        return []
    return list(value) if section.array else [value]


def _header(section: Section) -> str:
    return f"[[{section.key}]]" if section.array else f"[{section.key}]"


def dump_spec(spec: CampaignSpec) -> str:
    """TOML text that :func:`~snpappliance.campaign.spec.parse_spec` reads back to ``spec``."""
    lines = ["# Frozen campaign spec written by snpapp; `snpapp campaign --resume` reads it.", ""]
    for section in SECTIONS:
        for entry in _entries(section, spec):
            lines.append(_header(section))
            for s in settings(section.cls):
                value = getattr(entry, s.name)
                if value is not None and _applies(s, spec):
                    lines.append(f"{s.name} = {toml_value(value, hex=s.rule.hex)}")
            lines.append("")
    return "\n".join(lines)


# --- the commented template ----------------------------------------------------------------


def describe(s: Setting) -> str:
    """The help of a key with its guest kind, choices, bounds and default."""
    parts = [f"({s.rule.only} guest only) {s.rule.help}" if s.rule.only else s.rule.help]
    if isinstance(s.type, type) and issubclass(s.type, StrEnum):
        parts.append("One of " + ", ".join(repr(m.value) for m in s.type) + ".")
    if s.rule.choices:
        parts.append("Any of " + ", ".join(map(repr, s.rule.choices)) + ".")
    if s.rule.bounds():
        parts.append(f"Range: {s.rule.bounds()}.")
    if s.default is not None and not s.required and s.default != "":
        parts.append(f"Default: {toml_value(s.default, hex=s.rule.hex)}.")
    return " ".join(parts)


def _comment(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}# ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _key_lines(
    s: Setting, entry: Any, raw: Mapping[str, Any], spec: CampaignSpec, *, off: bool, helps: bool
) -> Iterator[str]:
    if helps:
        yield from _comment(describe(s))
    if s.name in raw and not off:
        yield f"{s.name} = {toml_value(getattr(entry, s.name), hex=s.rule.hex)}"
        return
    example = s.rule.example
    if example is not None:
        shown = toml_value(
            example.format(stack=spec.stack) if isinstance(example, str) else example
        )
    elif s.default is not None and not s.required:
        shown = toml_value(s.default, hex=s.rule.hex)
    else:
        return
    yield f"# {s.name} = {shown}"


def _table_lines(
    section: Section,
    entry: Any,
    raw: Mapping[str, Any],
    spec: CampaignSpec,
    *,
    off: bool = False,
    helps: bool = True,
) -> list[str]:
    lines = [f"# {_header(section)}" if off else _header(section)]
    for s in settings(section.cls):
        lines += _key_lines(s, entry, raw, spec, off=off, helps=helps)
    return [*lines, ""]


def _raw_tables(section: Section, raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    node: Any = raw
    for part in section.key.split("."):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return list(node) if section.array else [node]


def spec_template(spec: CampaignSpec, raw: Mapping[str, Any], header: list[str]) -> str:
    """The commented spec of ``spec`` (loaded from ``raw``), below ``header`` comment lines.

    A key ``raw`` sets is written with its value; every other key is shown
    commented out with its example or default, and every table ``raw`` lacks
    is shown commented out whole, so the template documents every option.
    """
    lines = [*header, ""] if header else []
    lines += _comment(
        "Every key of every table is listed below with what it does; a commented key shows "
        "its default or an example. Check your copy with `snpapp campaign validate FILE`."
    )
    lines.append("")
    for section in SECTIONS:
        entries = _entries(section, spec)
        lines += _comment(section.help)
        if not entries:
            lines += _table_lines(section, None, {}, spec, off=True)
            continue
        tables = _raw_tables(section, raw)
        for i, (entry, table) in enumerate(zip(entries, tables, strict=True)):
            lines += _table_lines(section, entry, table, spec, helps=i == 0)
    return "\n".join(lines)
