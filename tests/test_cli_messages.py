"""Bad command lines get one line that names the option (or the file) and what is
allowed, status 2, before any work: cases from a bad-input audit of the CLI, each of
which printed a misleading line or was silently ignored before."""

import pytest

from costx.cli import main


def _run(argv, capsys) -> str:
    """The error output of a command that must exit with status 2 (from costx or from
    argparse), whitespace folded."""
    try:
        status = main(argv)
    except SystemExit as info:  # argparse refuses the option itself
        status = info.code
    assert status == 2, argv
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err
    return err


def test_a_folder_given_as_a_scenario_or_sweep_is_called_a_folder(tmp_path, capsys):
    folder = tmp_path / "adir"
    folder.mkdir()
    for argv, kind in ((["run", str(folder)], "scenario"), (["validate", str(folder)],
                       "scenario"), (["sweep", str(folder), "--out", str(tmp_path / "o")],
                       "sweep")):  # fmt: skip
        assert f"{folder}: is a folder, not a {kind} file" in _run(argv, capsys)


def test_threads_and_trials_past_their_bounds_name_the_option(capsys):
    err = _run(["run", "--threads", "100000", "--trials", "10"], capsys)
    assert "argument --threads: must be at most" in err and "NUMBA_NUM_THREADS" in err
    err = _run(["run", "--trials", "99999999999999999999"], capsys)
    assert "argument --trials: must be at most 1,000,000,000,000" in err
    err = _run(["sweep", "ddg_magazine_laser", "--out", "x", "--threads", "100000"], capsys)
    assert "argument --threads: must be at most" in err


def test_a_scheduler_without_the_dask_backend_is_refused(tmp_path, capsys):
    out = tmp_path / "s"
    err = _run(["sweep", "ddg_magazine_laser", "--out", str(out), "--scheduler", "tcp://x:1"],
               capsys)  # fmt: skip
    assert "--scheduler is the Dask scheduler of --backend dask" in err and not out.exists()
    err = _run(["analyze", "sensitivity", "ddg_mixed_raid", "--scheduler", "tcp://x:1",
                "--out", str(tmp_path / "a.parquet")], capsys)  # fmt: skip
    assert "--scheduler is the Dask scheduler of --backend dask" in err
    err = _run(["sweep", "ddg_magazine_laser", "--out", str(out), "--backend", "dask",
                "--threads", "1"], capsys)  # fmt: skip
    assert "--threads sets this machine's Numba threads (--backend local)" in err
    assert not out.exists()


def test_catalog_errors_say_what_was_asked(capsys):
    err = _run(["catalog", "lasers", "sm2"], capsys)  # an effector, but not a laser
    assert "no laser 'sm2' in the catalog (" in err and "helios" in err and "sm6" not in err
    err = _run(["catalog", "threats", "--ranges", "1,2"], capsys)
    assert "--ranges goes with --dwell-table" in err


def test_an_unknown_precision_measure_lists_the_measures(capsys):
    err = _run(["run", "--precision", "0.5", "--measure", "bogus"], capsys)
    assert "measure 'bogus' is not a measure of ddg_mixed_raid (its measures: leakers," in err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["worst-raid", "ddg_mixed_raid", "--budget", "-5", "--mix", "owa_drone=0,24"],
         "error: --budget: -$5 is below the cost of one threat"),
        (["worst-raid", "ddg_mixed_raid", "--budget", "1e7", "--mix", "bogus=0,24"],
         "error: --mix: no threat group 'bogus'"),
        (["cheapest", "ddg_mixed_raid", "--require", "leakers<=x",
          "--choice", "effectors.helios.units=0,1"],
         "error: --require 'leakers': 'x' is not a number"),
        (["cheapest", "ddg_mixed_raid", "--require", "p_ship_lost<=0.05",
          "--choice", "effectors.helios.units=0,nan"],
         "error: --choice (effectors.helios.units = nan):"),
        (["sensitivity", "ddg_mixed_raid", "--precision", "0.1", "--precision-measure", "bogus"],
         "error: --precision-measure 'bogus' is not a measure"),
        (["margin", "red_sea_2024", "--threat", "drones", "--add", "2",
          "--offset", "effectors.sm2.roundz=8"],
         "error: --offset 'effectors.sm2.roundz': "),
        (["break-even", "ddg_drone_swarm", "--vary", "costing.raids_per_year", "--bounds",
          "1", "12", "--against", "effectors.laser.units=0", "--tol", "0"],
         "error: --tol must be above 0, not 0"),
    ],
)  # fmt: skip
def test_analysis_errors_name_the_option_not_the_keyword(argv, expected, tmp_path, capsys):
    """The analyses' errors name their Python keywords (budget_usd, require['leakers'],
    offsets[...]); from the command line they name the option. A --tol of 0 or less was
    silently taken as 1 for a whole-number --vary."""
    err = _run(["analyze", *argv, "--trials", "1000", "--out", str(tmp_path / "a.parquet")],
               capsys)  # fmt: skip
    assert err.startswith(expected), err
