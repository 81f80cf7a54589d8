"""`costx validate`, `costx scenarios` and `--help`: exit status, where problems are printed,
and never a traceback.

Most tests run the CLI in-process (costx.cli.main returns the exit status; rich prints to the
captured sys.stdout / sys.stderr); a few run `python -m costx` in a subprocess, as users do.
Rich wraps long lines at the console width (80 columns when output is not a terminal), so the
in-process tests compare text with whitespace collapsed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import costx
from costx import bundled
from costx.cli import main

TESTS = Path(__file__).parent
BAD = TESTS / "bad_scenarios"
BOX_DRAWING = re.compile(r"[\u2500-\u257f]")


def flat(text: str) -> str:
    """Text with rich's line wrapping and table borders removed (whitespace collapsed)."""
    return " ".join(BOX_DRAWING.sub(" ", text).split())


def copy_bad(name: str, folder: Path) -> str:
    """Copy a bad file into folder (the working folder) and return its short relative name."""
    shutil.copy(BAD / name, folder / name)
    return name


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def good(workdir) -> str:
    scenario = costx.load_scenario("ddg_mixed_raid")
    (workdir / "good.toml").write_text(scenario.to_toml(), encoding="utf-8")
    return "good.toml"


# -- costx validate (in-process) ---------------------------------------------------------


def test_validate_valid_file_exits_0(good, capsys):
    assert main(["validate", good]) == 0
    out, err = capsys.readouterr()
    assert flat(out) == ("ok: good.toml (ddg_mixed_raid: 3 threat groups, 32 threats, 4 effectors)")
    assert err == ""


def test_validate_bundled_name_exits_0(capsys):
    assert main(["validate", "ddg_mixed_raid"]) == 0
    out, err = capsys.readouterr()
    assert flat(out).startswith("ok: bundled:ddg_mixed_raid (ddg_mixed_raid:")
    assert err == ""


def test_validate_invalid_file_exits_2_with_every_problem_on_stderr(workdir, capsys):
    name = copy_bad("several_problems.toml", workdir)
    assert main(["validate", name]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    text = flat(err)
    expected = [
        "scenario.name: must be an identifier",
        "effectors[0].rounds: input should be greater than or equal to 0 (got -8)",
        "effectors[0].pk.owa_drone: input should be less than or equal to 1 (got 8.0)",
        "effectors[1].kind: must be one of interceptor, railgun, laser (got 'Laser')",
    ]
    for problem in expected:
        assert f"error: {name}: {problem}" in text, text
    assert err.count("error: ") == len(expected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pk_unknown_threat.toml", "effectors[0].pk.owa_dron: names no threat"),
        ("nan_inf_threat.toml", "threats[0].kill_fluence_j_cm2: must be a finite number"),
        ("malformed_toml.toml", "malformed TOML: Expected newline or end of document"),
        ("unknown_key_typo.toml", "effectors[0].max_rang_km: unknown field; did you mean"),
    ],
)
def test_validate_reports_problem_kinds(workdir, capsys, name, expected):
    copy_bad(name, workdir)
    assert main(["validate", name]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"error: {name}: {expected}" in flat(err)
    assert "Traceback" not in out + err


def test_validate_malformed_toml_gives_line_and_column(workdir, capsys):
    name = copy_bad("malformed_toml.toml", workdir)
    assert main(["validate", name]) == 2
    _, err = capsys.readouterr()
    assert "(at line 12, column 17)" in flat(err)


def test_validate_missing_file_exits_2(workdir, capsys):
    assert main(["validate", "absent.toml"]) == 2
    out, err = capsys.readouterr()
    assert flat(err) == "error: absent.toml: no such file"
    assert out == ""


def test_validate_unknown_bundled_name_exits_2(capsys):
    assert main(["validate", "no_such_scenario"]) == 2
    _, err = capsys.readouterr()
    text = flat(err)
    assert "error: no_such_scenario: no such file, and no bundled scenario" in text
    assert "ddg_mixed_raid" in text
    assert "Traceback" not in err


def test_validate_checks_every_file_and_exits_2_if_any_is_invalid(good, workdir, capsys):
    bad = copy_bad("bad_kind.toml", workdir)
    assert main(["validate", good, bad, "ddg_mixed_raid"]) == 2
    out, err = capsys.readouterr()
    assert flat(out).count("ok: ") == 2
    assert "ok: good.toml" in flat(out)
    assert "ok: bundled:ddg_mixed_raid" in flat(out)
    assert f"error: {bad}: effectors[0].kind: must be one of" in flat(err)
    assert "Traceback" not in out + err


def test_validate_warning_goes_to_stderr_and_exits_0(workdir, capsys):
    name = copy_bad("warn_unengageable.toml", workdir)
    assert main(["validate", name]) == 0
    out, err = capsys.readouterr()
    assert flat(out) == f"ok: {name} (tiny: 4 threat groups, 8 threats, 1 effectors)"
    text = flat(err)
    assert err.count("warning: ") == 3  # once each, not repeated by the top-level handler
    for i, threat in ((1, "ascm"), (2, "asbm"), (3, "fast")):
        assert f"warning: {name}: threats[{i}] ({threat}): no effector can engage it" in text
    assert "owa_drone" not in text
    assert "error" not in text


def test_validate_without_a_scenario_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert "usage: costx validate" in err
    assert "Traceback" not in out + err


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


# -- costx scenarios ----------------------------------------------------------------------


def test_scenarios_lists_every_bundled_scenario_with_its_description(capsys):
    assert main(["scenarios"]) == 0
    out, err = capsys.readouterr()
    text = flat(out)
    assert err == ""
    assert "ddg_mixed_raid (default)" in text
    descriptions = bundled.scenario_descriptions()
    assert descriptions["ddg_mixed_raid"].startswith("One destroyer")
    for name, description in descriptions.items():
        assert name in text
        assert flat(description) in text


# -- --help and --version ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["usage: costx", "scenarios", "validate", "run"]),
        (["validate", "--help"], ["usage: costx validate", "FILE", "sweep", "Exit status 2"]),
        (["scenarios", "--help"], ["usage: costx scenarios"]),
        (["run", "--help"], ["usage: costx run", "--trials", "--seed", "--out"]),
    ],
    ids=["top", "validate", "scenarios", "run"],
)
def test_help_exits_0(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out, err = capsys.readouterr()
    for word in expected:
        assert word in out
    assert err == ""


def test_version_exits_0(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"costx {costx.__version__}"


# -- python -m costx (subprocess) ----------------------------------------------------------


def run_costx(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m costx ARGS` in tests/, with output to pipes and no terminal width hint."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    }
    return subprocess.run(
        [sys.executable, "-m", "costx", *args],
        cwd=TESTS,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subprocess_invalid_file_exits_2_with_problems_on_stderr():
    name = "bad_scenarios/several_problems.toml"
    result = run_costx("validate", name)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stdout + result.stderr
    text = flat(result.stderr)
    assert f"error: {name}: scenario.name: must be an identifier" in text
    assert f"error: {name}: effectors[0].rounds: input should be greater than or equal to 0" in text
    assert f"error: {name}: effectors[1].kind: must be one of interceptor, railgun, laser" in text
    assert result.stderr.count("error: ") == 4


def test_subprocess_valid_scenario_exits_0():
    result = run_costx("validate", "ddg_mixed_raid")
    assert result.returncode == 0, result.stderr
    assert flat(result.stdout).startswith("ok: bundled:ddg_mixed_raid")
    assert result.stderr == ""


def test_subprocess_help_exits_0():
    result = run_costx("--help")
    assert result.returncode == 0
    assert "usage: costx" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_subprocess_prints_one_line_per_problem():
    result = run_costx("validate", "bad_scenarios/several_problems.toml")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith("error: bad_scenarios/several_problems.toml: ") for line in lines)
