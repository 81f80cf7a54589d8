"""The command line for analysts (issue 18): machine-readable output, -q, --set, costx
show, validate on sweeps, the 80-column run, no stray stderr, a closed pipe, resumes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tomli_w
from scenarios import interceptor, mixed, scenario, threat

import costx
from costx import bundled
from costx.catalog import load_catalog
from costx.cli import main
from costx.scenario import read_scenario_data


def _write(tmp_path, data, name="s.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _summary_from_records(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records).set_index("measure")
    for c in ("mean", "ci95_low", "ci95_high", "std_error"):
        frame[c] = frame[c].astype("float64")  # null (NaN, inf in the summary) -> NaN
    return frame


def _same_summary(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal, with non-finite values (JSON null) compared as missing."""
    expected = expected.copy()
    for c in ("mean", "ci95_low", "ci95_high", "std_error"):
        expected[c] = expected[c].where(np.isfinite(expected[c]))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)


# -- --json and --format csv -------------------------------------------------------------


def test_run_json_is_one_document_matching_the_summary(tmp_path, capsys):
    path = _write(tmp_path, mixed())
    out = tmp_path / "r.parquet"
    assert main(["run", str(path), "--trials", "2000", "--seed", "3", "--out", str(out),
                 "--json"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # stdout is the document and nothing else
    back = costx.read_result(out)
    _same_summary(_summary_from_records(doc["summary"]), back.summary())
    assert (doc["trials"], doc["seed"], doc["scenario"]) == (2000, 3, "mixed")
    assert doc["dollar_year"] == back.scenario.scenario.dollar_year
    assert doc["files"] == [str(out)]
    assert doc["costs"]["expended_usd"]["mean"] == pytest.approx(
        back.summary().loc["defense_cost_usd", "mean"]
    )
    assert f"wrote {out}" in captured.err  # the note goes to stderr, not into the data
    assert main(["run", str(path), "--trials", "2000", "--seed", "3", "--out", str(out),
                 "--format", "json", "-q"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summary"] == doc["summary"]
    assert "wrote" not in captured.err  # -q: no notes (warnings about the scenario stay)


def test_run_csv_is_the_summary(tmp_path, capsys):
    path = _write(tmp_path, mixed())
    out = tmp_path / "r.parquet"
    assert main(["run", str(path), "--trials", "1000", "--out", str(out), "--format", "csv",
                 "-q"]) == 0  # fmt: skip
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("measure")
    expected = costx.read_result(out).summary()
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, check_index_type=False)


def test_sweep_json_and_csv_are_the_sweep_table(tmp_path, capsys):
    out = tmp_path / "sw"
    args = ["sweep", "ddg_magazine_laser", "--trials", "200", "--out", str(out), "--no-progress"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    table = costx.read_sweep(out).table
    got = pd.DataFrame(doc["table"])
    pd.testing.assert_frame_equal(got, table, check_dtype=False)
    assert doc["sweep"] == "ddg_magazine_laser" and doc["points"] == 12 and doc["reused"] == 0
    assert main([*args, "--format", "csv", "-q"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(frame, table, check_dtype=False)


def test_sweep_table_fits_the_terminal(tmp_path, capsys, monkeypatch):
    """At COLUMNS=80 the sweep table keeps the grid columns and the measures that fit,
    the answer first (leakers, total cost and its ratio), and says how many it left out;
    written to a file without COLUMNS it has every measure."""
    out = tmp_path / "sw"
    args = ["sweep", "ddg_magazine_laser", "--trials", "100", "--out", str(out), "--no-progress"]
    monkeypatch.setenv("COLUMNS", "80")
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "wrote" not in line]
    assert max(map(len, lines)) <= 80  # (the last line names the folder written)
    header = next(line for line in lines if "sm2.rounds" in line)
    for name in ("helios.units", "leakers", "total/attack", "total $"):
        assert name in header
    assert "more measures with --format csv" in " ".join(lines)
    monkeypatch.delenv("COLUMNS")
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "more measures" not in text and "defense/attack" in text and "$ per kill" in text


def test_catalog_json_and_csv(capsys):
    catalog = load_catalog()
    assert main(["catalog", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == sum(len(v) for v in catalog.entries.values())
    sm6 = next(r for r in rows if (r["section"], r["name"]) == ("effectors", "sm6"))
    assert sm6["cost"] == catalog.entry("effectors", "sm6").fields["cost_per_shot_usd"].value
    assert main(["catalog", "effectors", "sm6", "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)
    fields = catalog.entry("effectors", "sm6").fields
    assert entry["fields"]["cost_per_shot_usd"] == json.loads(
        json.dumps(fields["cost_per_shot_usd"].as_dict())
    )
    assert set(entry["sources"]) == {k for rec in fields.values() for k in rec.sources}
    assert main(["catalog", "threats", "--format", "csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert sorted(frame["name"]) == sorted(catalog.entries["threats"])


def test_validate_json_lists_every_file(tmp_path, capsys):
    bad = mixed()
    bad["effectors"][0]["rounds"] = -1
    assert main(["validate", "ddg_mixed_raid", str(_write(tmp_path, bad)), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert [r["ok"] for r in report] == [True, False]
    assert "effectors[0].rounds" in report[1]["problems"][0]


# -- -q --------------------------------------------------------------------------------------


def test_quiet_prints_only_the_files_written(tmp_path, capsys):
    out = tmp_path / "r.parquet"
    assert main(["run", "ddg_mixed_raid", "--trials", "500", "--out", str(out), "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{out}\n" and captured.err == ""
    campaign = tmp_path / "c.parquet"
    assert main(["run", "pacific_airbase", "--trials", "200", "--out", str(campaign), "-q"]) == 0
    salvos = tmp_path / "c.salvos.parquet"
    assert capsys.readouterr().out.splitlines() == [str(campaign), str(salvos)]
    folder = tmp_path / "sw"
    assert main(["sweep", "ddg_magazine_laser", "--trials", "100", "--out", str(folder), "-q",
                 "--no-progress"]) == 0  # fmt: skip
    assert capsys.readouterr().out == f"{folder}\n"
    assert main(["validate", "ddg_mixed_raid", "-q"]) == 0
    assert capsys.readouterr().out == ""
    bad = mixed()
    bad["effectors"][0]["rounds"] = -1
    assert main(["validate", str(_write(tmp_path, bad)), "-q"]) == 2  # errors still on stderr
    assert "effectors[0].rounds" in capsys.readouterr().err


# -- --set ---------------------------------------------------------------------------------

SETS = {
    "effectors.sm2.rounds": 8,  # written in the file
    "effectors.sm6.cost_per_shot_usd": 3_000_000.0,  # a catalog figure, now the file's
    "scenario.policy": "cost_aware",  # text that is not a TOML value
    "threats.owa_drone.count": 30,  # a file value that [scenario.assumptions] lists
}


def _with_sets(data: dict, sets: dict) -> dict:
    from costx.sweeps import set_path

    for path, value in sets.items():
        set_path(data, path, value, "test")
    return data


def _set_args(sets: dict) -> list[str]:
    args = []
    for path, value in sets.items():
        text = value if isinstance(value, str) else tomli_w.dumps({"v": value})[4:].strip()
        args += ["--set", f"{path}={text}"]
    return args


def test_set_equals_the_same_change_made_in_the_file(tmp_path, capsys):
    """ddg_mixed_raid with --set against the bundled file edited the same way: the same
    scenario, the same trials, the same summary."""
    data, _ = read_scenario_data("ddg_mixed_raid")
    edited = _write(tmp_path, _with_sets(data, SETS), "edited.toml")
    a, b = tmp_path / "set.parquet", tmp_path / "file.parquet"
    # In 2020 dollars: a cost set on the command line is in the file's dollars (2025, the
    # default year of a file without dollar_year) and converted, as the file's own are.
    common = ["--trials", "3000", "--seed", "5", "-q", "--dollar-year", "2020"]
    assert main(["run", "ddg_mixed_raid", *_set_args(SETS), "--out", str(a), *common]) == 0
    assert main(["run", str(edited), "--out", str(b), *common]) == 0
    capsys.readouterr()
    ra, rb = costx.read_result(a), costx.read_result(b)
    assert ra.scenario == rb.scenario
    assert ra.scenario.scenario.policy == "cost_aware"
    converted = ra.scenario.provenance["effectors.sm6.cost_per_shot_usd"]["converted"]
    assert (converted["from_value"], converted["from_year"]) == (3_000_000.0, 2025)
    assert ra.scenario.effectors[1].cost_per_shot_usd == 3_000_000.0 * converted["factor"]
    pd.testing.assert_frame_equal(ra.trials, rb.trials)
    pd.testing.assert_frame_equal(ra.summary(), rb.summary())
    assert ra.scenario.provenance["effectors.sm6.cost_per_shot_usd"]["from"] == "--set"


def test_sweep_set_equals_the_sweep_of_the_edited_scenario(tmp_path, capsys):
    sets = {"effectors.sm6.rounds": 4, "threats.asbm.count": 3}
    data, _ = read_scenario_data("ddg_mixed_raid")
    _write(tmp_path, _with_sets(data, sets), "edited.toml")
    spec = tmp_path / "edited_sweep.toml"
    text = bundled.sweep_text("ddg_magazine_laser")
    spec.write_text(text.replace('scenario = "ddg_mixed_raid"', 'scenario = "edited.toml"'))
    assert 'scenario = "edited.toml"' in spec.read_text()
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--trials", "300", "--no-progress", "-q"]
    assert main(["sweep", "ddg_magazine_laser", *_set_args(sets), "--out", str(a), *common]) == 0
    assert main(["sweep", str(spec), "--out", str(b), *common]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(costx.read_sweep(a).table, costx.read_sweep(b).table)


def test_set_errors_name_the_option(tmp_path, capsys):
    out = str(tmp_path / "r.parquet")
    assert main(["run", "ddg_mixed_raid", "--set", "effectors.sm9.rounds=4", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "--set effectors.sm9.rounds: no effectors named 'sm9'" in err and "sm2" in err
    assert main(["run", "ddg_mixed_raid", "--set", "effectors.sm2.rounds=-4", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "bundled:ddg_mixed_raid (with --set): effectors[0].rounds" in err
    assert main(["sweep", "ddg_magazine_laser", "--set", "effectors.sm2.rounds=4", "--out",
                 str(tmp_path / "sw")]) == 2  # fmt: skip
    assert "--set effectors.sm2.rounds: the sweep bundled:ddg_magazine_laser varies it" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["run", "ddg_mixed_raid", "--set", "effectors.sm2.rounds"])
    assert "expected PATH=VALUE" in capsys.readouterr().err


# -- costx show ------------------------------------------------------------------------------


def _line(text: str, start: str) -> str:
    (line,) = [x for x in text.splitlines() if x.startswith(start)]
    return line


def test_show_marks_defaults_catalog_values_and_sets(tmp_path, capsys):
    data = mixed()
    del data["effectors"][0]["channels"]  # the model's default: 1
    data["effectors"][0]["salvo_size"] = 2
    data["effectors"].append({"name": "sm6", "use": "sm6", "rounds": 8})
    path = _write(tmp_path, data)
    assert main(["show", str(path), "--set", "effectors.sm2.rounds=9"]) == 0
    text = capsys.readouterr().out
    sm2 = text.split('name = "sm2"')[1].split("[[effectors]]")[0]
    assert _line(sm2, "channels = 1").endswith("# default")
    assert "#" not in _line(sm2, "salvo_size = 2")  # written in the file: unmarked
    assert _line(sm2, "rounds = 9").endswith("# --set")
    assert "fixed_acquisition_usd" not in data["effectors"][0]
    assert _line(sm2, "fixed_acquisition_usd = 0.0").endswith("# default")
    sm6 = text.split('name = "sm6"')[1]
    assert "# catalog effectors.sm6" in _line(sm6, "cost_per_shot_usd = ")
    assert "# catalog effectors.sm6" in _line(sm6, 'kind = "interceptor"')
    assert "#" not in _line(sm6, "rounds = 8")
    assert _line(text, "dollar_year = ").endswith("# default; the price index's last year")
    # The text is TOML that loads back to the same scenario (the --set included).
    shown = tmp_path / "shown.toml"
    shown.write_text(text)
    expected = costx.load_scenario(_with_sets(mixed_with(data), {"effectors.sm2.rounds": 9}))
    assert costx.load_scenario(shown) == expected


def mixed_with(data: dict) -> dict:
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_show_of_every_bundled_scenario_loads_back_equal(name, tmp_path, capsys):
    assert main(["show", name]) == 0
    path = tmp_path / "shown.toml"
    path.write_text(capsys.readouterr().out)
    assert costx.load_scenario(path) == costx.load_scenario(name)


def test_show_json_gives_every_field_with_its_origin(capsys):
    assert main(["show", "ddg_mixed_raid", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fields = {f["path"]: f for f in doc["fields"]}
    assert fields["effectors.sm2.rounds"]["origin"] == "file"
    assert fields["effectors.sm2.rounds"]["assumption"] is True  # [scenario.assumptions]
    assert fields["effectors.sm2.cost_per_shot_usd"]["origin"] == "catalog"
    assert fields["effectors.sm2.cost_per_shot_usd"]["entry"] == "effectors.sm2"
    assert fields["effectors.sm6.fixed_acquisition_usd"]["origin"] == "default"
    assert fields["threats.owa_drone.p_hit"] == {
        "path": "threats.owa_drone.p_hit", "value": 1.0, "origin": "default", "entry": None,
        "assumption": False, "note": "",
    }  # fmt: skip
    assert doc["data"] == costx.load_scenario("ddg_mixed_raid").to_dict()


# -- validate on sweeps ----------------------------------------------------------------------


@pytest.mark.parametrize("name", bundled.sweep_names())
def test_validate_accepts_bundled_sweeps(name, capsys):
    assert main(["validate", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: bundled:{name} (sweep of ") and " points x " in out


def test_validate_checks_every_point_of_a_sweep_file(tmp_path, capsys):
    _write(tmp_path, mixed(), "s.toml")
    spec = tmp_path / "grid.toml"
    spec.write_text('[sweep]\nscenario = "s.toml"\n[grid]\n"effectors.sm2.rounds" = [4, -2]\n')
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "grid point 1 (effectors.sm2.rounds=-2): effectors[0].rounds" in err
    spec.write_text('[sweep]\nscenario = "s.toml"\n[grid]\n"effectors.sm2.rounds" = [4, 8]\n')
    assert main(["validate", str(spec), "ddg_mixed_raid"]) == 0
    assert capsys.readouterr().out.count("ok: ") == 2


# -- the 80-column run -------------------------------------------------------------------------


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_run_fits_80_columns(name, tmp_path, capsys, monkeypatch):
    """At COLUMNS=80 no line is wider than 80, no interval wraps (each key measure's row
    is one line ending in its interval) and a run prints tens of lines, not hundreds."""
    monkeypatch.setenv("COLUMNS", "80")
    out = tmp_path / "r.parquet"
    assert main(["run", name, "--trials", "300", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    too_wide = [line for line in lines if len(line) > 80 and "wrote" not in line]
    assert not too_wide
    assert len(lines) <= 75, len(lines)
    summary = costx.read_result(out).summary()
    keys = costx.aggregate.measure_keys(costx.load_scenario(name))
    for measure in summary.index:
        base_capital = measure.startswith("capital_cost_") and measure != "capital_cost_usd"
        if measure in keys or base_capital:  # in the compact tables and the capital block
            continue
        (row,) = [line for line in lines if line.startswith(f"{measure} ")]
        assert row.rstrip().endswith(("fixed", " *")) or " to " in row or "up to" in row, row
    assert "Cost of one raid" in "\n".join(lines)  # the capital/expended/damage block stays


def test_run_all_lists_every_measure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = tmp_path / "r.parquet"
    assert main(["run", "ddg_mixed_raid", "--trials", "300", "--out", str(out), "--all"]) == 0
    text = capsys.readouterr().out
    for measure in costx.read_result(out).summary().index:
        assert f"\n{measure} " in text
    assert max(len(line) for line in text.splitlines() if "wrote" not in line) <= 80


# -- stderr and pipes ---------------------------------------------------------------------------


def test_a_run_writes_nothing_to_stderr(tmp_path, capsys):
    assert main(["run", "ddg_mixed_raid", "--trials", "300", "--out",
                 str(tmp_path / "r.parquet")]) == 0  # fmt: skip
    assert capsys.readouterr().err == ""
    done = subprocess.run(
        [sys.executable, "-m", "costx", "run", "--trials", "300", "--out", "r.parquet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""


def test_a_closed_pipe_is_a_quiet_exit(tmp_path):
    """`costx run ... | head -1`: the reader goes away before costx prints; costx stops
    printing and exits 0, without a traceback, its file written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "costx", "run", "--trials", "3000", "--out", "r.parquet", "--all",
         "--assumptions"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # before anything is printed (loading and simulating take longer)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=600) == 0, err
    assert err == ""
    assert costx.read_result(tmp_path / "r.parquet").n_trials == 3000
    shell = subprocess.run(
        f"set -o pipefail; {sys.executable} -m costx run --trials 300 --out r.parquet | head -1",
        shell=True, executable="/bin/bash", cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert shell.returncode == 0 and shell.stdout.startswith("ddg_mixed_raid")
    assert "Traceback" not in shell.stderr and "Error" not in shell.stderr


# -- resumed sweeps ----------------------------------------------------------------------------


def test_a_resumed_sweep_says_how_many_points_it_reused(tmp_path, capsys):
    data = scenario([threat("drone", 6)], [interceptor(pk={"drone": 0.7}, rounds=8)], name="small")
    _write(tmp_path, data, "small.toml")
    spec = tmp_path / "grid.toml"
    spec.write_text('[sweep]\nscenario = "small.toml"\ntrials = 200\n'
                    '[grid]\n"effectors.sm2.rounds" = [2, 4, 6]\n')  # fmt: skip
    out = tmp_path / "sw"
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert "3 points in " in capsys.readouterr().out
    (out / "point-0001.parquet").unlink()
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert f"3 points (2 reused from {out}, 1 run) in " in capsys.readouterr().out
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reused"] == 3
