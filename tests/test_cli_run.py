"""`costx run`: prints the summary, writes Parquet, and handles bad input with status 2."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from scenarios import laser, mixed, scenario, threat

import costx
from costx.cli import main


def _write(tmp_path, data, name="s.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_run_writes_the_same_result_as_simulate(tmp_path, capsys):
    path = _write(tmp_path, mixed())
    out = tmp_path / "out.parquet"
    status = main(["run", str(path), "--trials", "2000", "--seed", "3", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "cost_per_kill_usd" in printed and "leakers" in printed
    assert f"wrote {out}" in printed
    back = costx.read_result(out)
    expected = costx.simulate(mixed(), trials=2000, seed=3)
    pd.testing.assert_frame_equal(back.trials, expected.trials)


def test_run_default_output_name_and_summary_only(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, mixed())
    assert main(["run", str(path), "--trials", "500", "--summary-only", "--threads", "1"]) == 0
    result = costx.read_result(tmp_path / "mixed.parquet")
    assert not result.has_trials and result.n_trials == 500


def test_bad_input_exits_2_without_traceback(tmp_path, capsys):
    bad = mixed()
    bad["effectors"][0]["pk"]["drone"] = 1.5
    path = _write(tmp_path, bad)
    assert main(["run", str(path), "--trials", "10"]) == 2
    err = capsys.readouterr().err
    assert "effectors[0].pk.drone" in err and "Traceback" not in err
    good = _write(tmp_path, mixed(), "good.toml")
    assert main(["run", str(good), "--out", str(tmp_path / "no" / "x.parquet")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # argparse: the option, before any work
        main(["run", str(good), "--threads", "999", "--trials", "10"])
    assert info.value.code == 2
    assert "argument --threads: must be at most" in capsys.readouterr().err


def test_python_m_costx_run_default_scenario(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "costx", "run", "--trials", "3000", "--out", "d.parquet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "ddg_mixed_raid" in done.stdout and "cost_per_kill_usd" in done.stdout
    assert "Traceback" not in done.stderr
    assert (tmp_path / "d.parquet").is_file()


def test_messages_with_brackets_are_printed_as_they_are(tmp_path, capsys):
    bad = mixed()
    bad["threats"][0]["targets"] = {"jet": 1.0}
    bad["threats"][0]["warhead"] = {"kind": "unitary"}
    path = _write(tmp_path, bad)
    assert main(["validate", str(path)]) == 2
    assert "needs a [base] section" in capsys.readouterr().err
    assert main(["run", "[/oops]"]) == 2
    assert "[/oops]: no such file" in capsys.readouterr().err


def test_bench_prints_the_parts_asked_for_and_a_users_scenario(capsys):
    import argparse

    from costx import bench
    from costx.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    part = next(a for a in sub.choices["bench"]._actions if a.dest == "part")
    assert tuple(part.choices) == bench.PARTS  # the CLI offers every part of the suite
    assert main(["bench", "--part", "sweep", "--part", "rng", "--trials", "20000"]) == 0
    out = capsys.readouterr().out
    assert "ddg_magazine_laser, 12 points x 1,000 trials" in out and "ns per keyed" in out
    assert "single_layer" not in out
    assert main(["bench", "red_sea_2024", "--trials", "2000"]) == 0
    out = capsys.readouterr().out
    assert "red_sea_2024" in out and "1 thread(s)" in out


def test_run_to_a_precision_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "p.parquet"
    status = main(["run", "ddg_mixed_raid", "--precision", "0.05", "--trials", "40000",
                   "--out", str(out), "--no-progress"])  # fmt: skip
    text = capsys.readouterr().out
    assert status == 0
    assert "precision reached" in text and "cost_exchange_defense_over_attack" in text
    result = costx.read_result(out)
    assert result.n_trials in list(costx.aggregate.precision_checks(40_000))
    assert main(["run", "--measure", "leakers", "--out", str(out)]) == 2
    assert "give --precision too" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run", "--precision", "2", "--out", str(out)])
    assert info.value.code == 2
    assert "must be between 0 and 1" in capsys.readouterr().err


def test_a_warning_is_shown_as_it_comes_even_when_the_command_then_stops(
    tmp_path, capsys, monkeypatch
):
    """Warnings raised during a command were kept until it ended well: one raised in the
    run (a precision measure at 0, below) was lost when the command was then interrupted."""
    path = _write(tmp_path, scenario([threat("drone", 2)], [laser()]))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(costx.SimulationResult, "to_parquet", interrupted)
    out = tmp_path / "x.parquet"
    status = main(["run", str(path), "--precision", "0.05", "--measure", "leakers",
                   "--trials", "12000", "--out", str(out), "--no-progress"])  # fmt: skip
    assert status == 130
    err = " ".join(capsys.readouterr().err.split())
    assert "the mean of leakers is 0 after 10,000 trials" in err and "interrupted" in err


def test_a_run_to_a_precision_of_a_measure_at_zero_warns(tmp_path, capsys):
    """A laser kills both drones in every trial: leakers stays 0, so no relative precision
    can be reached; the run says so (once) and goes on to the cap."""
    path = _write(tmp_path, scenario([threat("drone", 2)], [laser()]))
    out = tmp_path / "z.parquet"
    status = main(["run", str(path), "--precision", "0.05", "--measure", "leakers",
                   "--trials", "20000", "--out", str(out), "--no-progress"])  # fmt: skip
    assert status == 0
    std, err = capsys.readouterr()
    warning = [line for line in err.splitlines() if "the mean of leakers is 0" in line]
    assert len(warning) == 1 and warning[0].startswith("warning: test: ")
    assert "the mean of leakers is 0 after 10,000 trials" in " ".join(err.split())
    assert "NOT reached" in std and costx.read_result(out).n_trials == 20_000


def test_run_says_which_policy_and_warns_about_lasers_under_layered(tmp_path, capsys):
    """costx run prints the policy and its meaning, and warns in one line when a scenario
    with a laser or railgun runs under layered (mixed() has both)."""
    layered = _write(tmp_path, mixed())
    assert main(["run", str(layered), "--trials", "200", "--out", str(tmp_path / "a.parquet")]) == 0
    out, err = capsys.readouterr()
    assert "policy layered: every effector fires at the most urgent threat" in " ".join(out.split())
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and 'policy = "layered" with hvp, las' in warning[0]
    pref = mixed("preferential")
    pref["doctrine"] = {"drone": ["las", "hvp", "sm2"], "cruise": ["sm2"], "ballistic": ["sm2"]}
    path = _write(tmp_path, pref, "p.toml")
    assert main(["run", str(path), "--trials", "200", "--out", str(tmp_path / "p.parquet")]) == 0
    out, err = capsys.readouterr()
    assert "policy preferential: per threat group" in " ".join(out.split())
    assert "warning" not in err


def test_every_bad_file_exits_2_with_one_error_line_per_problem(capsys):
    """costx validate on each file of tests/bad_scenarios: status 2, no traceback, one
    'error:' line per problem that loading reports."""
    for path in sorted((Path(__file__).parent / "bad_scenarios").glob("*.toml")):
        if path.name == "warn_unengageable.toml":
            continue
        assert main(["validate", str(path)]) == 2, path.name
        err = capsys.readouterr().err
        with pytest.raises(costx.ScenarioError) as info:
            costx.load_scenario(path)
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == len(info.value.problems), (path.name, err)
        assert "Traceback" not in err


def test_an_output_that_is_the_input_or_an_unwritable_folder_is_refused_first(
    tmp_path, capsys, monkeypatch
):
    """`costx run s.toml --out s.toml` overwrote the scenario with Parquet, and `costx
    report r.parquet --out r.parquet` the result with HTML; a folder that cannot take a
    file (/proc here; a read-only mount, an immutable folder) was found out only when
    writing, after the whole run. All are refused, status 2, before any simulation."""
    path = _write(tmp_path, mixed())
    kept = path.read_bytes()

    def no_run(*args, **kwargs):
        raise AssertionError("simulated before the output path was checked")

    monkeypatch.setattr("costx.simulation.simulate", no_run)  # cmd_run imports it late
    assert main(["run", str(path), "--trials", "200", "--out", str(path)]) == 2
    assert "is the input file" in capsys.readouterr().err and path.read_bytes() == kept
    assert main(["run", str(path), "--trials", "200", "--out", "/proc/x.parquet"]) == 2
    assert "cannot write in folder /proc" in " ".join(capsys.readouterr().err.split())
    monkeypatch.undo()
    result = tmp_path / "r.parquet"
    assert main(["run", str(path), "--trials", "200", "--out", str(result)]) == 0
    capsys.readouterr()
    kept = result.read_bytes()
    assert main(["report", str(result), "--out", str(result)]) == 2
    assert "is the input file" in capsys.readouterr().err and result.read_bytes() == kept
    assert not list(tmp_path.glob(".*.tmp"))  # no probe or temporary file left
