"""A scenario as the model uses it: every field, and where its value came from.

``costx show`` prints this. A scenario file gives some fields; items that ``use`` a
catalog entry get the rest of theirs from the entry; every field neither gives takes the
model's default (docs/scenarios.md lists them), and costs are converted to constant
dollars of one year. :func:`resolved_fields` lists every field with its origin:

* ``file``: written in the scenario file;
* ``catalog``: filled in from a catalog entry (``entry``: ``effectors.sm6``), with its
  sources, or its rationale when the entry marks it as an assumption;
* ``default``: neither the file nor the catalog gives it: the model's default;
* ``--set``: set on the command line (``costx run --set``);
* ``sweep grid``: set by a sweep's grid.

:func:`resolved_toml` writes them as TOML, each value with a comment saying where it came
from; the text loads back to an equal scenario.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from costx.scenario import Costing, Scenario

_MISSING = object()


@dataclass(frozen=True)
class Field:
    """One field of a resolved scenario."""

    path: str  # dotted, list items by name: effectors.sm2.channels
    value: Any  # None: not set (the field is optional and nothing gives it)
    origin: str  # file, catalog, default, --set, sweep grid
    entry: str = ""  # the catalog entry of a catalog value
    assumption: bool = False
    note: str = ""  # sources, rationale, conversion to constant dollars
    details: dict = field(default_factory=dict)


def _raw(data: Any, path: str) -> Any:
    """The value at a dotted path of raw scenario data (list items by name), or
    ``_MISSING``."""
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and x.get("name") == part),
                        _MISSING)  # fmt: skip
        elif isinstance(node, dict):
            node = node.get(part, _MISSING)
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _record(provenance: dict, path: str) -> dict | None:
    """The provenance record of a path, or of the nearest table above it that has one (a
    pk table or a warhead given as a whole). Below a catalog record, a key the catalog's
    value does not hold is not the catalog's (a warhead field left at its default)."""
    parts = path.split(".")
    for k in range(len(parts), 0, -1):
        record = provenance.get(".".join(parts[:k]))
        if record is None:
            continue
        if k < len(parts) and record.get("from") == "catalog":
            node = record.get("value")
            for part in parts[k:]:
                node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
            if node is _MISSING:
                return {"from": "default"}
        return record
    return None


def _note(record: dict) -> str:
    parts = []
    if record.get("assumption"):
        parts.append(f"assumption: {record.get('rationale', '')}".rstrip(": "))
    elif record.get("sources"):
        sources = ", ".join(record["sources"])
        year = f", {record['year']}" if record.get("year") else ""
        tier = f", tier {record['confidence']}" if record.get("confidence") else ""
        parts.append(f"{sources}{year}{tier}")
    conv = record.get("converted")
    if conv:
        parts.append(f"{conv['from_year']} $ x {conv['factor']:.4f}")
    return "; ".join(parts)


def resolved_fields(
    scenario: Scenario, raw: dict | None = None, dollar_year_option: bool = False
) -> list[Field]:
    """Every field of ``scenario`` with its origin (see the module).

    ``raw`` is the data of the file the scenario was loaded from (with any ``--set``
    applied); with it, "written in the file" is exact for every field. Without it, the
    scenario's provenance says which item fields the file gave, and pydantic's record of
    the fields it was given stands in for the rest. ``dollar_year_option``: the dollar
    year was chosen when loading (``--dollar-year``), not by the file.
    """
    provenance = scenario.provenance
    declared = dict(scenario.scenario.assumptions)
    out: list[Field] = []

    def origin_of(path: str, model: BaseModel, name: str) -> Field:
        record = _record(provenance, path)
        value = getattr(model, name)
        if record is not None and record.get("from") in ("--set", "sweep grid"):
            return Field(path, value, record["from"], details=record)
        if path == "scenario.dollar_year" and dollar_year_option:
            return Field(path, value, "--dollar-year")
        if record is not None and record.get("from") == "default":
            origin = "default"
        elif raw is not None and _raw(raw, path) is not _MISSING:
            origin = "file"
        elif record is not None and record.get("from") == "catalog":
            return Field(path, value, "catalog", record.get("entry", ""),
                         bool(record.get("assumption")), _note(record), record)  # fmt: skip
        elif raw is None and record is not None and record.get("from") == "scenario":
            origin = "file"
        elif raw is None and name in model.model_fields_set:
            origin = "file"
        elif name == "kind" and getattr(model, "use", None) is not None:
            return Field(path, value, "catalog", f"{_section(path)}.{model.use}")
        else:
            origin = "default"
        if path == "scenario.dollar_year" and origin == "default":
            return Field(path, value, "default", note="the price index's last year")
        note = _note(record) if record is not None and origin == "file" else ""
        parts = path.split(".")
        why = next((declared[".".join(parts[:k])] for k in range(len(parts), 0, -1)
                    if ".".join(parts[:k]) in declared), None)  # fmt: skip
        if why is not None:
            return Field(path, value, origin, "", True, f"assumption: {why}")
        return Field(path, value, origin, "", False, note, record or {})

    def walk(model: BaseModel, prefix: str) -> None:
        names = list(type(model).model_fields)
        first = [n for n in ("name", "use", "kind") if n in names]
        for name in first + [n for n in names if n not in first]:
            if prefix == "scenario." and name == "assumptions":
                continue  # the file's own list of assumptions: marked on each path
            value = getattr(model, name)
            path = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                walk(value, f"{path}.")
            elif (
                isinstance(value, tuple) and value and all(isinstance(v, BaseModel) for v in value)
            ):
                for item in value:
                    walk(item, f"{path}.{item.name}.")
            elif isinstance(value, dict) and value:
                for key in value:
                    leaf = origin_of(f"{path}.{key}", model, name)
                    out.append(Field(leaf.path, value[key], leaf.origin, leaf.entry,
                                     leaf.assumption, leaf.note, leaf.details))  # fmt: skip
            else:
                out.append(origin_of(path, model, name))

    walk(scenario, "")
    if scenario.costing is None:  # no [costing] table: its defaults apply to capital
        for name in type(Costing()).model_fields:
            out.append(Field(f"costing.{name}", getattr(Costing(), name), "default"))
    return out


def _section(path: str) -> str:
    if path.startswith("base.assets."):
        return "assets"
    return path.split(".")[0]


# -- TOML -------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(part: str) -> str:
    return part if _BARE_KEY.match(part) else json.dumps(part)


def toml_value(value: Any) -> str:
    """A value as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return (
            "{ " + ", ".join(f"{_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


COMMENT_NOTE_CHARS = 72  # a rationale is cut here in comments (costx catalog has it all)


def _comment(f: Field) -> str:
    if f.origin == "file":
        text = ""
    elif f.origin == "catalog":
        text = f"catalog {f.entry}" if f.entry else "catalog"
    else:
        text = f.origin
    note = f.note
    if len(note) > COMMENT_NOTE_CHARS:
        note = note[: COMMENT_NOTE_CHARS - 3].rstrip() + "..."
    if note:
        text = f"{text}; {note}" if text else note
    return text


HEADER = """\
# {name}: the scenario as the model uses it ({source}{year}).
# Every field is listed. Unmarked values are written in the file; "default": the file
# does not give it and the model's default applies (docs/scenarios.md); "catalog
# ENTRY": filled in from that catalog entry (costx catalog SECTION NAME cites it);
# "assumption": no source gives it for this case (a choice, placeholder or stand-in; its
# reason names any source it rests on; sweep it); "--set": set on the command line.
# Costs are in {dollar_year} dollars."""


def resolved_toml(
    scenario: Scenario,
    raw: dict | None = None,
    dollar_year_option: bool = False,
    comment_column: int = 40,
) -> str:
    """The resolved scenario as TOML, each value with a comment saying where it came
    from (see :func:`resolved_fields`); loads back to an equal scenario."""
    fields = resolved_fields(scenario, raw, dollar_year_option)
    year = scenario.scenario.dollar_year
    lines = [HEADER.format(name=scenario.name, source=scenario.source, dollar_year=year,
                           year="")]  # fmt: skip
    items = {
        "threats": [t.name for t in scenario.threats],
        "effectors": [e.name for e in scenario.effectors],
        "base.assets": [a.name for a in scenario.base.assets] if scenario.base else [],
    }

    def header_of(path: str) -> tuple[str, str]:
        """(table header, key within it) of a field path."""
        for list_path in ("base.assets", "threats", "effectors"):
            if path.startswith(f"{list_path}."):
                rest = path[len(list_path) + 1 :]
                for name in items[list_path]:
                    if rest.startswith(f"{name}."):
                        return f"[[{list_path}]] {name}", rest[len(name) + 1 :]
        table, _, key = path.partition(".")
        if table == "scenario" and key.startswith("assumptions."):
            return "[scenario.assumptions]", key.removeprefix("assumptions.")
        return f"[{table}]", key

    groups: dict[str, list[str]] = {}  # table header -> its lines, in order
    for f in fields:
        header, key = header_of(f.path)
        if not key:  # a whole table the scenario does not have ([base], [campaign], ...)
            header, key = "", f.path
        lines_of = groups.setdefault(header, [])
        dotted = ".".join(_key(p) for p in _split_key(key))
        comment = _comment(f)
        if scenario.costing is None and f.path.startswith("costing."):
            # No [costing] table: its defaults apply (written as comments, so that the
            # text loads back to the same scenario, without the table).
            shown = "not set" if f.value is None else toml_value(f.value)
            lines_of.append(f"# {dotted} = {shown} (default: no [costing] table)")
            continue
        if f.value is None:
            what = "no such table" if not header else "not set"
            lines_of.append(f"# {dotted}: {what} ({comment or 'optional'})")
            continue
        text = f"{dotted} = {toml_value(f.value)}"
        if comment:
            text = f"{text.ljust(comment_column - 1)} # {comment}"
        lines_of.append(text)
    # A table's own fields before its arrays of tables ([base] before [[base.assets]]),
    # and the tables the scenario lacks, as comments, at the end.
    order = list(groups)
    if "[base]" in order:
        order.remove("[base]")
        first = min((i for i, h in enumerate(order) if h.startswith("[[base.assets]]")),
                    default=len(order))  # fmt: skip
        order.insert(first, "[base]")
    if "" in order:
        order.remove("")
        order.append("")
    for header in order:
        lines.append("")
        if header and not (header == "[costing]" and scenario.costing is None):
            lines.append(header.split(" ")[0])
        lines.extend(groups[header])
    declared = dict(scenario.scenario.assumptions)
    if declared:
        lines.append("")
        lines.append("[scenario.assumptions]")
        for path, why in declared.items():
            lines.append(f"{_key(path)} = {toml_value(why)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _split_key(key: str) -> list[str]:
    """A field's key within its table: ``warhead.kind`` -> [warhead, kind]; a pk key
    (a threat name) is one part."""
    return key.split(".")
