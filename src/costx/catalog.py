"""The cited parameter catalog (data/catalog, installed as costx.data.catalog).

Scenarios refer to entries with ``use = "sm6"``; :func:`resolve` fills in every field the
scenario does not give from the entry and records where each value came from (the
catalog entry and its sources, an assumption with its rationale, or the scenario file).
:func:`to_dollar_year` converts costs to constant dollars of one year with the bundled,
cited price index. docs/catalog.md describes the format.
"""

from __future__ import annotations

import copy
import difflib
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from costx.errors import InputError, Problem

SECTIONS = ("effectors", "threats", "assets")
COST_FIELDS = (
    "unit_cost_usd",
    "cost_per_shot_usd",
    "barrel_cost_usd",
    "acquisition_usd",
    "fixed_acquisition_usd",
    "shelter_cost_usd",
    "repair_team_cost_usd",
    "dispersal_site_cost_usd",
    "value_usd",
)
# Fields that state the same thing two ways: an item that gives one takes neither from
# the catalog (a laser's jitter as a two-axis or a per-axis rms, docs/model.md).
ALTERNATIVES = {
    "jitter_urad": ("jitter_per_axis_urad",),
    "jitter_per_axis_urad": ("jitter_urad",),
}


@dataclass(frozen=True)
class FieldRecord:
    """One catalog figure: its value and where it comes from (or why it is assumed)."""

    value: Any
    sources: tuple[str, ...] = ()
    year: int | None = None
    dollar_year: int | None = None
    confidence: str | None = None
    note: str = ""
    assumption: bool = False
    rationale: str = ""
    low: Any = None  # an assumption's plausible range (same shape and units as value)
    high: Any = None
    range_rationale: str = ""

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"value": self.value}
        if self.assumption:
            out.update(assumption=True, rationale=self.rationale)
            if self.low is not None and self.high is not None:
                out.update(low=self.low, high=self.high, range_rationale=self.range_rationale)
        else:
            out.update(sources=list(self.sources), year=self.year, confidence=self.confidence)
        if self.dollar_year is not None:
            out["dollar_year"] = self.dollar_year
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Entry:
    section: str
    key: str
    label: str
    kind: str | None
    description: str
    fields: dict[str, FieldRecord] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, dict[str, Entry]]
    sources: dict[str, dict[str, Any]]
    price_index: dict[int, float]
    price_source: dict[str, Any]

    def entry(self, section: str, key: str) -> Entry | None:
        return self.entries.get(section, {}).get(key)

    def assumptions(self) -> list[tuple[str, str, FieldRecord]]:
        """(section, entry, field) of every figure marked as an assumption."""
        return [
            (section, entry.key, name)
            for section, entries in self.entries.items()
            for entry in entries.values()
            for name, rec in entry.fields.items()
            if rec.assumption
        ]


def _read(name: str) -> dict:
    entry = resources.files("costx.data").joinpath("catalog", name)
    if not entry.is_file():
        return {}
    return tomllib.loads(entry.read_text(encoding="utf-8"))


def _record(raw: Any, where: str) -> FieldRecord:
    if not isinstance(raw, Mapping) or "value" not in raw:
        raise InputError(f"catalog {where}: expected a table with a value")
    sources = raw.get("sources", ())
    if isinstance(sources, str):
        sources = (sources,)
    return FieldRecord(
        value=raw["value"],
        sources=tuple(sources),
        year=raw.get("year"),
        dollar_year=raw.get("dollar_year"),
        confidence=raw.get("confidence"),
        note=str(raw.get("note", "")),
        assumption=bool(raw.get("assumption", False)),
        rationale=str(raw.get("rationale", "")),
        low=raw.get("low"),
        high=raw.get("high"),
        range_rationale=str(raw.get("range_rationale", "")),
    )


@functools.cache
def load_catalog() -> Catalog:
    """The bundled catalog (read once per process)."""
    entries: dict[str, dict[str, Entry]] = {}
    for section in SECTIONS:
        raw = _read(f"{section}.toml")
        entries[section] = {}
        for key, table in raw.items():
            if not isinstance(table, Mapping):
                continue
            fields = {
                name: _record(rec, f"{section}.{key}.fields.{name}")
                for name, rec in dict(table.get("fields", {})).items()
            }
            entries[section][key] = Entry(
                section=section,
                key=key,
                label=str(table.get("label", key)),
                kind=table.get("kind"),
                description=str(table.get("description", "")),
                fields=fields,
                info=dict(table.get("info", {})),
            )
    prices = _read("price_index.toml")
    index = {int(year): float(v) for year, v in dict(prices.get("index", {})).items()}
    return Catalog(entries, _read("sources.toml"), index, dict(prices.get("source", {})))


def _unknown_entry(path: str, section: str, key: str, catalog: Catalog) -> Problem:
    known = sorted(catalog.entries.get(section, {}))
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return Problem(
        path,
        f"no catalog entry of that name in {section} (see `costx catalog {section}`){hint}",
        key,
    )


def resolve(data: Mapping[str, Any]) -> tuple[dict, dict[str, dict], list[Problem]]:
    """Fill in the fields of items that ``use`` a catalog entry.

    Returns the completed data, the provenance of every field of every item (path ->
    record: ``{"from": "catalog", "entry": ..., **figure}`` or ``{"from": "scenario"}``)
    and problems (unknown entries, kind mismatches). Items without ``use`` are left as
    they are and their fields recorded as coming from the scenario file.
    """
    out = copy.deepcopy(dict(data)) if isinstance(data, Mapping) else data
    provenance: dict[str, dict] = {}
    problems: list[Problem] = []
    if not isinstance(out, dict):
        return out, provenance, problems
    catalog = load_catalog()
    uses: dict[str, str] = {}  # scenario threat name -> catalog threat entry
    lists = [("threats", out.get("threats")), ("effectors", out.get("effectors"))]
    base = out.get("base")
    if isinstance(base, dict):
        lists.append(("assets", base.get("assets")))
    for section, items in lists:
        if not isinstance(items, list):
            continue
        prefix = "base.assets" if section == "assets" else section
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            path = _item_path(prefix, i, item)
            where = f"{prefix}[{i}]"  # error messages use index paths, as validation does
            for name in item:
                if name not in ("use", "name"):
                    provenance[f"{path}.{name}"] = {"from": "scenario"}
            key = item.get("use")
            if key is None:
                continue
            entry = catalog.entry(section, key) if isinstance(key, str) else None
            if entry is None:
                problems.append(_unknown_entry(f"{where}.use", section, key, catalog))
                continue
            if section == "effectors":
                kind = item.get("kind", entry.kind)
                if entry.kind is not None and kind != entry.kind:
                    problems.append(
                        Problem(
                            f"{where}.kind",
                            f"catalog entry {key!r} is a {entry.kind}, not a {kind}",
                            kind,
                        )
                    )
                    continue
                item.setdefault("kind", entry.kind)
            if section == "threats" and isinstance(item.get("name"), str):
                uses[item["name"]] = key
            for name, rec in entry.fields.items():
                if name == "pk" or name in item:
                    continue
                if any(other in item for other in ALTERNATIVES.get(name, ())):
                    continue
                item[name] = copy.deepcopy(rec.value)
                provenance[f"{path}.{name}"] = {
                    "from": "catalog",
                    "entry": f"{section}.{key}",
                    **rec.as_dict(),
                }
    # Single tables that may use an assets entry: the base (its passive-defense costs)
    # and the ship (its value at risk).
    for key in ("base", "ship"):
        table = out.get(key)
        if isinstance(table, dict):
            _resolve_table(table, key, catalog, provenance, problems)
    # Effectors that use an entry and give no pk: the entry's pk against the scenario's
    # threats that use catalog threats.
    effectors = out.get("effectors")
    if isinstance(effectors, list):
        for i, item in enumerate(effectors):
            if not isinstance(item, dict) or "pk" in item or not isinstance(item.get("use"), str):
                continue
            entry = catalog.entry("effectors", item["use"])
            if entry is None or "pk" not in entry.fields or item.get("kind") == "laser":
                continue
            rec = entry.fields["pk"]
            table = {}
            for threat_name, threat_entry in uses.items():
                if isinstance(rec.value, Mapping) and threat_entry in rec.value:
                    table[threat_name] = rec.value[threat_entry]
                    record = {**rec.as_dict(), "value": rec.value[threat_entry]}
                    for end in ("low", "high"):  # the range of this threat's entry
                        if isinstance(record.get(end), Mapping):
                            record[end] = record[end].get(threat_entry)
                    provenance[f"{_item_path('effectors', i, item)}.pk.{threat_name}"] = {
                        "from": "catalog",
                        "entry": f"effectors.{item['use']}",
                        **record,
                    }
            item["pk"] = table
    return out, provenance, problems


def _resolve_table(table: dict, path: str, catalog: Catalog, provenance, problems) -> None:
    """Fill in the fields of the ``[base]`` or ``[ship]`` table from the assets entry it
    ``use``s (fields written in the table win); record where each value came from."""
    for name in table:
        if name != "use" and not isinstance(table[name], list):
            provenance[f"{path}.{name}"] = {"from": "scenario"}
    key = table.get("use")
    if key is None:
        return
    entry = catalog.entry("assets", key) if isinstance(key, str) else None
    if entry is None:
        problems.append(_unknown_entry(f"{path}.use", "assets", key, catalog))
        return
    for name, rec in entry.fields.items():
        if name in table:
            continue
        table[name] = copy.deepcopy(rec.value)
        provenance[f"{path}.{name}"] = {
            "from": "catalog",
            "entry": f"assets.{key}",
            **rec.as_dict(),
        }


def _item_path(prefix: str, index: int, item: dict) -> str:
    """``effectors.sm2`` (by name, like sweep grid paths), or ``effectors[3]`` if unnamed."""
    name = item.get("name")
    return f"{prefix}.{name}" if isinstance(name, str) else f"{prefix}[{index}]"


def _cost_paths(data: dict):
    """(container, key, path) of every cost field in scenario data."""
    lists = [("threats", data.get("threats")), ("effectors", data.get("effectors"))]
    base = data.get("base")
    if isinstance(base, dict):
        lists.append(("base.assets", base.get("assets")))
    for prefix, items in lists:
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for key in COST_FIELDS:
                if key in item:
                    yield item, key, f"{_item_path(prefix, i, item)}.{key}"
    for prefix in ("base", "ship"):  # tables with costs of their own
        table = data.get(prefix)
        if isinstance(table, dict):
            for key in COST_FIELDS:
                if key in table:
                    yield table, key, f"{prefix}.{key}"


def default_dollar_year() -> int:
    """The dollar year of a run that names none: the last year of the bundled price index."""
    return max(load_catalog().price_index)


def to_dollar_year(
    data: dict, provenance: dict[str, dict], year: int, file_year: int | None = None
) -> tuple[dict, list[Problem]]:
    """Convert every cost to constant dollars of ``year`` with the bundled price index.

    A cost's dollar year is that of its catalog figure, or for values written in the
    scenario file the file's ``[scenario] dollar_year`` (else ``file_year``; with neither,
    converting such a value is a problem); a cost converted before is converted again from
    its original value and year (recorded in the provenance), so that converting twice
    gives exactly what converting once does. value x index[year] / index[dollar year]; the factor
    is recorded in the provenance. A year after the last of the index (the current year's
    average is published only in January) takes the last year's index: no inflation
    after it, an assumption recorded in the provenance and listed with the others.
    """
    catalog = load_catalog()
    index = catalog.price_index
    problems: list[Problem] = []
    first, last = (min(index), max(index)) if index else (None, None)
    if not index or year < first:
        raise InputError(
            f"dollar year {year}: the bundled price index covers {first}-{last} (later years "
            f"are taken at the {last} level)"
        )
    info = data.get("scenario") if isinstance(data.get("scenario"), dict) else {}
    file_year = info.get("dollar_year", file_year)

    def level(y: int) -> float:
        return index[min(y, last)]

    for item, key, path in list(_cost_paths(data)):
        record = provenance.setdefault(path, {"from": "scenario"})
        value = item[key]
        if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
            item[key] = 0.0  # nothing in any year's dollars: no conversion, no dollar year
            continue
        if "converted" in record:  # convert again from the original figure, not the result
            source_year = record["converted"]["from_year"]
            value = record["converted"]["from_value"]
        elif record.get("from") == "catalog":
            source_year = record.get("dollar_year")
        else:
            source_year = file_year
        if source_year is None:
            where = (
                f"catalog figure {record.get('entry')} has no dollar year"
                if record.get("from") == "catalog"
                else "set [scenario] dollar_year, the dollar year of costs written in the file"
            )
            problems.append(
                Problem(path, f"cannot convert to {year} dollars: {where}", None, False)
            )
            continue
        source_year = int(source_year)
        if source_year < first:
            problems.append(
                Problem(path, f"no price index for dollar year {source_year}", None, False)
            )
            continue
        factor = 1.0 if source_year == year else level(year) / level(source_year)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                item[key] = float(value) * factor
            except OverflowError:  # an integer beyond float range: validation reports it
                continue
            if source_year == year:
                record.pop("converted", None)
                continue
            record["converted"] = {
                "from_year": source_year,
                "to_year": year,
                "factor": factor,
                "from_value": value,
            }
            beyond = sorted({y for y in (source_year, year) if y > last})
            if beyond and source_year != year:
                record["converted"]["assumption"] = (
                    f"no price index for {', '.join(map(str, beyond))} yet: taken at the "
                    f"{last} level (no inflation after {last})"
                )
    if isinstance(data.get("scenario"), dict):
        data["scenario"]["dollar_year"] = year
    return data, problems
