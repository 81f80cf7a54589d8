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

The sweep-file validator likewise: every ``Problem(...)`` and ``InputError(...)`` built in
the functions that check a sweep file (``SWEEP_RULES_IN``) is a rule, identified by its
field path and message (an f-string's fixed parts; a loop over literal field names gives
one rule per name), and some file in tests/bad_sweeps/ must break it under ``costx
validate`` (``costx sweep`` for a file without a [sweep] table, which validate takes for
a scenario): exit status 2, one error line per problem naming the file, no traceback,
and no line that no enumerated rule gives.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo

import costx.catalog
import costx.cli
import costx.scenario
import costx.sweeps
from costx import CostxWarning, ScenarioError, load_scenario
from costx.errors import InputError
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


# -- sweep files --------------------------------------------------------------------------

BAD_SWEEPS = Path(__file__).parent / "bad_sweeps"
# The functions a sweep file's checks are in (costx validate FILE and costx sweep FILE
# run them all before anything is run): every Problem(...) and InputError(...) they
# build is a rule.
SWEEP_RULES_IN = {
    costx.sweeps: ("load_sweep_spec", "expand_grid", "check_grid_size", "set_path",
                   "build_points", "points_target"),
    costx.cli: ("validate_sweep",),
}  # fmt: skip
# Messages that are another validator's, passed on: build_points names the grid point
# of each problem the scenario validator finds in it (those rules are the scenario
# tests' above).
SWEEP_MESSAGE_OF = {"p.message": "{}"}
# Sweep rules that a sweep file cannot break, with the test that covers each.
SWEEP_NOT_FROM_A_FILE = {
    "no such file": "a missing sweep file: test_a_missing_sweep_file_is_reported",
    "--set {}: the sweep {} varies it in its grid": "an option of the command line, not "
    "the file: test_cli_output.py::test_set_errors_name_the_option",
}


def _sweep_text(node: ast.expr, bound: dict[str, str]) -> str | None:
    """An expression as text with {} for what varies (names bound to literal text are
    filled in), or None if it is not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value
            if isinstance(v, ast.Constant)
            else bound.get(v.value.id, "{}")
            if isinstance(v.value, ast.Name)
            else "{}"
            for v in node.values
        )
    return None


def _bind(target: ast.expr, value: ast.expr) -> dict[str, str]:
    """Loop variables bound to literal strings by one item of a literal loop."""
    if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
        return {target.id: value.value} if isinstance(value.value, str) else {}
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        if len(target.elts) == len(value.elts):
            return {
                k: v
                for t, e in zip(target.elts, value.elts, strict=True)
                for k, v in _bind(t, e).items()
            }
    return {}


def _sweep_templates(node: ast.AST, bound: dict[str, str]) -> Iterator[str]:
    """``path: message`` of every Problem(...) and the message of every InputError(...)
    under ``node``."""
    if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple | ast.List):
        # for key, kind in (("trials", int), ...): one rule per item
        for item in node.iter.elts:
            inner = {**bound, **_bind(node.target, item)}
            for stmt in node.body:
                yield from _sweep_templates(stmt, inner)
        for stmt in node.orelse:
            yield from _sweep_templates(stmt, bound)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = node.args
        if node.func.id in ("Problem", "InputError") and args:
            message = args[1] if node.func.id == "Problem" and len(args) >= 2 else args[0]
            text = _sweep_text(message, bound)
            if text is None:
                text = SWEEP_MESSAGE_OF.get(
                    ast.unparse(message), f"<unresolved {ast.unparse(message)}>"
                )
            if node.func.id == "Problem":
                where = _sweep_text(args[0], bound)
                where = "{}" if where is None else where
                text = f"{where}: {text}" if where else text
            yield text
    for child in ast.iter_child_nodes(node):
        yield from _sweep_templates(child, bound)


def _sweep_functions() -> Iterator[ast.FunctionDef]:
    for module, names in SWEEP_RULES_IN.items():
        tree = ast.parse(inspect.getsource(module))
        found = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        for name in names:
            assert name in found, f"{module.__name__}.{name} is gone: update SWEEP_RULES_IN"
            yield found[name]


def _passes_on(template: str) -> bool:
    """A message of no words of its own (``f"{spec.source}: {err}"``) passes on another
    error's: it is no rule."""
    return re.search(r"[a-z]", template.replace("{}", "")) is None


def _all_sweep_templates() -> set[str]:
    templates = set()
    for fn in _sweep_functions():
        # A name set once, to literal text, is that text (label = f"grid point ..."); one
        # set more than once (also by unpacking: data, label, folder = ...) is not.
        stores = Counter(
            n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        )
        bound = {
            node.targets[0].id: text
            for node in ast.walk(fn)
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and stores[node.targets[0].id] == 1
            and (text := _sweep_text(node.value, {})) is not None
        }
        templates.update(_sweep_templates(fn, bound))
    return templates


def sweep_rules() -> set[str]:
    """Templates of every problem the sweep-file checks build themselves."""
    return {t for t in _all_sweep_templates() if not _passes_on(t)}


def _sweep_line_matches(rule: str, line: str) -> bool:
    """Whether an error line (without the file's name) is that rule's, with or without
    the offending value after it."""
    return _matches(rule, line) or _matches(rule + " (got {})", line)


@pytest.fixture(scope="module")
def sweep_reports(tmp_path_factory) -> list[tuple[Path, list[str], int, list[str], int]]:
    """(file, command, exit status, error lines, problems the Python API reports) for every
    file of tests/bad_sweeps. ``costx validate`` takes a file without a [sweep] table for
    a scenario, so such a file is given to ``costx sweep`` (whose output folder must stay
    unwritten)."""
    out = []
    for path in sorted(BAD_SWEEPS.glob("*.toml")):
        folder = tmp_path_factory.mktemp("sweep") / "out"
        if costx.cli._is_sweep_file(str(path)):
            command, check = ["validate", str(path)], costx.cli.validate_sweep
        else:
            command = ["sweep", str(path), "--out", str(folder)]
            check = costx.sweeps.load_sweep_spec
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = costx.cli.main(command)
        err = stderr.getvalue()
        assert "Traceback" not in err, (path.name, err)
        assert not folder.exists(), f"{path.name}: costx sweep wrote {folder}"
        try:
            check(str(path))
            problems = 0
        except ScenarioError as error:
            problems = len(error.problems)
        except InputError:
            problems = 1
        lines = [line for line in err.splitlines() if line.strip()]
        out.append((path, command, status, lines, problems))
    return out


def test_the_sweep_enumeration_finds_the_rules():
    """The enumeration of the sweep rules cannot silently come up empty."""
    rules = sweep_rules()
    for key in ("trials", "seed", "baseline", "keep_trials", "dollar_year"):
        assert f"sweep.{key}: must be {{}}" in rules
    assert "sweep: required table is missing" in rules
    assert "grid point {} ({}): {}: {}" in rules  # build_points names the point
    assert "every grid point ({}): {}: {}" in rules and "grid points {}: {}: {}" in rules
    assert "{}: no {} named {} (names: {})" in rules  # set_path
    assert "sweep.baseline: no point {} (0 .. {})" in rules  # cli.validate_sweep
    assert len(rules) >= 24
    assert not [r for r in rules if "<unresolved" in r], rules
    passed_on = {t for t in _all_sweep_templates() if _passes_on(t)}
    assert passed_on == {"{}: {}"}, passed_on  # validate_sweep's f"{spec.source}: {err}"


def test_every_bad_sweep_file_exits_2_with_one_error_line_per_problem(sweep_reports):
    for path, command, status, lines, problems in sweep_reports:
        assert status == 2, (path.name, command, lines)
        assert path.read_text(encoding="utf-8").startswith("# Breaks: "), path.name
        assert problems > 0 and len(lines) == problems, (path.name, lines, problems)
        assert all(line.startswith(f"error: {path}: ") for line in lines), (path.name, lines)


def test_every_sweep_rule_has_a_bad_file(sweep_reports):
    rules = sweep_rules()
    reported = [
        (path.name, line.removeprefix(f"error: {path}: "))
        for path, _, _, lines, _ in sweep_reports
        for line in lines
    ]

    def exempt(rule: str) -> bool:
        return any(_matches(key, rule) for key in SWEEP_NOT_FROM_A_FILE)

    missing = sorted(
        rule
        for rule in rules
        if not exempt(rule) and not any(_sweep_line_matches(rule, line) for _, line in reported)
    )
    assert not missing, (
        f"sweep rules without a file in tests/bad_sweeps/ that breaks them: {missing}"
    )
    stale = sorted(k for k in SWEEP_NOT_FROM_A_FILE if not any(_matches(k, r) for r in rules))
    assert not stale, f"exempted sweep rules that no longer exist: {stale}"
    # ... and a file reports no problem that is not a rule (one dropped from the code)
    strays = [(name, line) for name, line in reported
              if not any(_sweep_line_matches(rule, line) for rule in rules)]  # fmt: skip
    assert not strays, f"lines of tests/bad_sweeps/ that no enumerated rule gives: {strays}"


def test_a_missing_sweep_file_is_reported(tmp_path, capsys):
    """costx sweep of a file that is not there: the file's name and 'no such file', exit
    status 2, nothing written (costx validate takes it for a scenario file, as
    test_validation.py::test_missing_file_is_reported covers)."""
    missing = tmp_path / "absent.toml"
    assert costx.cli.main(["sweep", str(missing), "--out", str(tmp_path / "out")]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"error: {missing}: no such file", err
    assert not (tmp_path / "out").exists()
