"""Every rule the scenario validator has is broken by some file in tests/bad_scenarios/.

The rules are enumerated from the code, not listed by hand, so that a rule added without
a bad file fails here, and a rule dropped from the code makes its bad file's expected
lines in test_validation.py fail:

* field rules: every constraint of every field of every model reachable from
  ``Scenario`` (``gt``, ``ge``, ``lt``, ``le``, ``max_length``, ``pattern``, ``Literal``
  choices; the ``kind`` tags are the union discriminators, covered by bad_kind.toml);
* cross-field rules: every ``Problem(...)`` built in scenario.py and catalog.py outside
  the translation of pydantic's errors, each identified by its message (an f-string's
  fixed parts).

A bad file covers a field rule when loading it reports a problem at that field with that
constraint's message, and a cross-field rule when a problem's message matches. Each file
is loaded as it is and with a ``dollar_year`` (rules about converting the file's costs).
"""

from __future__ import annotations

import ast
import inspect
import re
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo

import costx.catalog
import costx.scenario
from costx import CostxWarning, ScenarioError, load_scenario
from costx.scenario import Scenario

BAD = Path(__file__).parent / "bad_scenarios"

# Problems that a scenario file alone cannot produce, with the test that covers each.
NOT_FROM_A_FILE = {
    "no such file": "a missing file: test_validation.py::test_missing_file_is_reported",
    "cannot read: {}": "unreadable, not UTF-8, a device or too large: "
    "test_validation.py::test_file_that_is_not_utf8_is_reported, "
    "test_limits.py::test_a_device_or_huge_file_is_refused_unread",
    "cannot convert to {} dollars: {}": "defensive: once loaded every cost has a dollar year "
    "(catalog figures carry theirs, file values the file's or the default year)",
}
# Messages built from an exception's text: the rule's message as the exception says it.
MESSAGE_OF = {
    "str(err)": "dollar year {}: the bundled price index covers {}",  # catalog.to_dollar_year
}
TRANSLATION = "_problems_from_validation"  # pydantic's errors: covered as field rules
# Field rules no file can reach (a field of any model, or one rule), and why.
FIELD_NOT_FROM_A_FILE = {
    "use": "checked against the catalog before validation: any key that is not an entry's "
    "is 'no catalog entry of that name' (unknown_catalog_entry.toml), so its pattern "
    "never gets to speak",
    ("ScenarioInfo", "dollar_year", "ge"): "a year before the price index (it starts in "
    "2010) is refused by the conversion to constant dollars first "
    "(dollar_year_before_index.toml)",
}


# -- field rules ------------------------------------------------------------------------


def _meta_kinds(meta: Any) -> set[str]:
    if isinstance(meta, FieldInfo):
        return set().union(*(_meta_kinds(m) for m in meta.metadata))
    if isinstance(meta, StringConstraints):
        return {k for k in ("pattern", "max_length") if getattr(meta, k) is not None}
    for cls, kind in ((annotated_types.Gt, "gt"), (annotated_types.Ge, "ge"),
                      (annotated_types.Lt, "lt"), (annotated_types.Le, "le"),
                      (annotated_types.MaxLen, "max_length")):  # fmt: skip
        if isinstance(meta, cls):
            return {kind}
    return set()


def _kinds(tp: Any, metadata=()) -> set[str]:
    kinds = set().union(*(_meta_kinds(m) for m in metadata)) if metadata else set()
    if get_origin(tp) is Annotated:
        base, *meta = get_args(tp)
        return kinds | _kinds(base, meta)
    if get_origin(tp) is Literal:
        return kinds | {"literal"}
    for arg in get_args(tp):
        if not (isinstance(arg, type) and issubclass(arg, BaseModel)) and arg is not Ellipsis:
            kinds |= _kinds(arg)
    return kinds


def _models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in get_args(tp) for m in _models_in(arg)]


def _all_models() -> list[type[BaseModel]]:
    found, todo = [], [Scenario]
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.append(model)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return found


def field_rules() -> set[tuple[str, str, str]]:
    """(model, field, constraint) for every constraint the models declare."""
    rules = set()
    for model in _all_models():
        for name, field in model.model_fields.items():
            if name == "kind" or name in FIELD_NOT_FROM_A_FILE:
                continue
            for kind in _kinds(field.annotation, field.metadata):
                if (model.__name__, name, kind) not in FIELD_NOT_FROM_A_FILE:
                    rules.add((model.__name__, name, kind))
    return rules


def _model_for(models: list[type[BaseModel]], node: Any) -> type[BaseModel] | None:
    """The model of a union that a value takes (by its ``kind``), or the only one."""
    if len(models) == 1:
        return models[0]
    kind = node.get("kind") if isinstance(node, dict) else None
    for model in models:
        tag = model.model_fields.get("kind")
        if tag is not None and kind in get_args(tag.annotation):
            return model
    return None


def _locate(path: str, data: Any) -> tuple[str, str] | None:
    """(model, field) that a problem's field path points at."""
    tokens = re.findall(r"\[\d+\]|[^.\[\]]+", path)
    model: type[BaseModel] | None = Scenario
    node = data
    i = 0
    while i < len(tokens) and model is not None:
        field = model.model_fields.get(tokens[i])
        if field is None:
            return None
        node = node.get(tokens[i]) if isinstance(node, dict) else None
        if i + 1 < len(tokens) and tokens[i + 1].startswith("["):
            index = int(tokens[i + 1][1:-1])
            node = node[index] if isinstance(node, list) and index < len(node) else None
            i += 1
        inner = _model_for(_models_in(field.annotation), node)
        if inner is None or i == len(tokens) - 1:
            return model.__name__, tokens[i - (1 if tokens[i].startswith("[") else 0)]
        model = inner
        i += 1
    return None


def _constraint_of(message: str) -> str | None:
    for prefix, kind in (("input should be greater than or equal to", "ge"),
                         ("input should be greater than", "gt"),
                         ("input should be less than or equal to", "le"),
                         ("input should be less than", "lt"),
                         ("string should have at most", "max_length"),
                         ("must be an identifier", "pattern"),
                         ("input should be '", "literal")):  # fmt: skip
        if message.startswith(prefix):
            return kind
    return None


# -- cross-field rules ------------------------------------------------------------------


def _template(node: ast.expr) -> str | None:
    """A message expression as text with {} for what varies, or None if not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _template(node.func.value)  # f"...".rstrip(...)
    return None


def _message_templates(fn: ast.FunctionDef) -> list[str]:
    # A helper's parameter (``def problem(message)``) is no rule: its callers' texts are.
    parameters = {
        a.arg for f in ast.walk(fn) if isinstance(f, ast.FunctionDef) for a in f.args.args
    }
    assigned: dict[str, list[str]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and _template(node.value) is not None:
                assigned.setdefault(target.id, []).append(_template(node.value))
    out = []
    for call in ast.walk(fn):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        if call.func.id == "Problem" and len(call.args) >= 2:
            message = call.args[1]
        elif call.func.id == "problem" and call.args:  # read_toml_file's helper
            message = call.args[0]
        elif call.func.id == "_unknown" and len(call.args) >= 3:  # names no {what} ...
            what = _template(call.args[2])
            out.append(f"names no {what} ({what}s are: {{}}){{}}")
            continue
        else:
            continue
        text = _template(message)
        if text is not None:
            out.append(text)
        elif isinstance(message, ast.Name) and message.id in assigned:
            out.extend(assigned[message.id])
        elif isinstance(message, ast.Name) and message.id in parameters:
            continue
        elif ast.unparse(message) in MESSAGE_OF:
            out.append(MESSAGE_OF[ast.unparse(message)])
        else:
            out.append(f"<unresolved {ast.unparse(message)} in {fn.name}>")
    return out


def cross_field_rules() -> set[str]:
    """Message templates of every problem scenario.py and catalog.py build themselves."""
    rules = set()
    for module in (costx.scenario, costx.catalog):
        tree = ast.parse(inspect.getsource(module))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name != TRANSLATION:
                rules.update(t for t in _message_templates(fn) if "names no {}" not in t)
    return rules


def _matches(template: str, message: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in template.split("{}"))
    return re.fullmatch(pattern, message, flags=re.DOTALL) is not None


# -- what the bad files report ------------------------------------------------------------


def _problems(path: Path, **kwargs) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CostxWarning)
        try:
            load_scenario(path, **kwargs)
        except ScenarioError as err:
            return err.problems
    return []


@pytest.fixture(scope="module")
def reported() -> list[tuple[Path, Any, Any]]:
    """(file, its data, problem) for every problem of every bad file."""
    import tomllib

    year = costx.catalog.default_dollar_year()
    out = []
    for path in sorted(BAD.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, RecursionError):
            data = None
        for problem in [*_problems(path), *_problems(path, dollar_year=year)]:
            out.append((path, data, problem))
    return out


def test_the_enumeration_finds_the_rules():
    """The enumeration itself cannot silently come up empty."""
    rules = field_rules()
    assert ("Threat", "count", "le") in rules
    assert ("Threat", "speed_mps", "gt") in rules and ("Threat", "speed_mps", "le") in rules
    assert ("Interceptor", "pk", "pattern") in rules and ("Laser", "power_kw", "le") in rules
    assert ("ScenarioInfo", "policy", "literal") in rules
    assert ("Campaign", "salvos", "ge") in rules
    assert len(rules) > 100
    cross = cross_field_rules()
    assert "{} is reserved for the runways" in cross
    assert "names no kinetic effector (kinetic effectors are: {}){}" in cross
    assert not [r for r in cross if r.startswith("<unresolved")], cross


def test_every_field_rule_has_a_bad_file(reported):
    covered = set()
    for _path, data, problem in reported:
        kind = _constraint_of(problem.message)
        where = _locate(problem.path, data) if kind else None
        if where is not None:
            covered.add((*where, kind))
    missing = sorted(field_rules() - covered)
    assert not missing, (
        f"{len(missing)} field rules have no file in tests/bad_scenarios/ that breaks them "
        f"(model, field, constraint): {missing}"
    )


def test_every_cross_field_rule_has_a_bad_file(reported):
    messages = [problem.message for _, _, problem in reported]
    rules = cross_field_rules()

    def exempt(rule: str) -> bool:
        return any(_matches(key, rule) for key in NOT_FROM_A_FILE)

    missing = sorted(
        rule for rule in rules if not exempt(rule) and not any(_matches(rule, m) for m in messages)
    )
    assert not missing, f"rules without a file in tests/bad_scenarios/ that breaks them: {missing}"
    stale = sorted(k for k in NOT_FROM_A_FILE if not any(_matches(k, r) for r in rules))
    assert not stale, f"exempted rules that no longer exist: {stale}"
