"""Output paths that would destroy an input or a sweep, or that name a folder, are
refused before any work with one line, status 2: cases from an audit of how costx writes
results, each of which wrote before."""

from pathlib import Path

import pytest
from scenarios import mixed

import costx
from costx.cli import main
from costx.errors import InputError


def _refused(argv, capsys, *expected: str) -> str:
    assert main(argv) == 2, argv
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("campaign") / "camp.parquet"
    costx.simulate("pacific_airbase", trials=40, seed=1).to_parquet(path)
    return path


@pytest.fixture
def sweep_folder(tmp_path) -> Path:
    folder = tmp_path / "sw"
    costx.sweep(mixed(), {"effectors.sm2.rounds": [4, 8]}, trials=50, seed=1, out=folder)
    return folder


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- finding 5: the input's per-salvo file and a sweep's points ----------------------------


def test_a_report_over_the_inputs_per_salvo_file_is_refused(campaign, capsys):
    salvos = campaign.with_name("camp.salvos.parquet")
    kept = salvos.read_bytes()
    _refused(["report", str(campaign), "--out", str(salvos)], capsys,
             f"error: {salvos}: is the per-salvo file of the input file {campaign}")  # fmt: skip
    assert salvos.read_bytes() == kept
    costx.read_result(campaign)  # still a whole pair


def test_no_command_writes_inside_a_sweep_folder(sweep_folder, tmp_path, capsys, monkeypatch):
    kept = _contents(sweep_folder)
    point = sweep_folder / "point-0000.parquet"
    inside = f"is inside the costx sweep folder {sweep_folder}"
    _refused(["report", str(sweep_folder), "--out", str(point)], capsys, f"{point}: {inside}")
    _refused(["report", str(sweep_folder), "--out", str(sweep_folder / "r.html")], capsys, inside)

    def no_run(*args, **kwargs):
        raise AssertionError("simulated before the output path was checked")

    monkeypatch.setattr("costx.simulation.simulate", no_run)
    _refused(["run", "ddg_drone_swarm", "--trials", "100", "--out", str(point)], capsys, inside)
    monkeypatch.undo()
    other = sweep_folder / "point-0001.parquet"
    _refused(["analyze", "margin", "ddg_drone_swarm", "--threat", "drones", "--add", "2",
              "--offset", "effectors.essm.rounds=4", "--trials", "100", "--out", str(other)],
             capsys, inside)  # fmt: skip
    with pytest.raises(InputError, match="is inside the costx sweep folder"):
        costx.simulate(mixed(), trials=50, seed=1).to_parquet(point)
    assert _contents(sweep_folder) == kept


# -- finding 7: figures and reports in a sweep folder --------------------------------------


def test_figures_are_not_written_into_a_sweep_folder(sweep_folder, capsys):
    """`costx plot sw --out sw` wrote figures beside the points, and the sweep then
    refused to resume ("exists and is not a costx sweep folder")."""
    kept = _contents(sweep_folder)
    _refused(["plot", str(sweep_folder), "--out", str(sweep_folder)], capsys,
             f"error: {sweep_folder}: is a costx sweep folder")  # fmt: skip
    _refused(["plot", str(sweep_folder), "--out", str(sweep_folder / "figs")], capsys,
             f"is inside the costx sweep folder {sweep_folder}")  # fmt: skip
    assert _contents(sweep_folder) == kept
    again = costx.sweep(mixed(), {"effectors.sm2.rounds": [4, 8]}, trials=50, seed=1,
                        out=sweep_folder)  # fmt: skip
    assert again.reused == 2  # the sweep still resumes


def test_a_sweep_is_not_made_inside_another_sweeps_folder(sweep_folder):
    with pytest.raises(InputError, match="is inside the costx sweep folder"):
        costx.sweep(mixed(), {"effectors.sm2.rounds": [4]}, trials=50, out=sweep_folder / "in")
    assert not (sweep_folder / "in").exists()


# -- finding 6: a file name that names a folder --------------------------------------------


def test_an_out_ending_in_a_slash_names_a_folder(campaign, tmp_path, capsys, monkeypatch):
    """`--out newfolder/` (no such folder) wrote a FILE named newfolder."""
    monkeypatch.chdir(tmp_path)
    _refused(["run", "ddg_drone_swarm", "--trials", "100", "--out", "newfolder/"], capsys,
             "error: newfolder/: names a folder; give a file name")  # fmt: skip
    _refused(["report", str(campaign), "--out", "newreport/"], capsys,
             "error: newreport/: names a folder; give a file name")  # fmt: skip
    _refused(["analyze", "margin", "ddg_drone_swarm", "--threat", "drones", "--add", "2",
              "--offset", "effectors.essm.rounds=4", "--out", "newmargin/"], capsys,
             "error: newmargin/: names a folder; give a file name")  # fmt: skip
    with pytest.raises(InputError, match="apidir/: names a folder; give a file name"):
        costx.simulate(mixed(), trials=50, seed=1).to_parquet("apidir/")
    from costx.report import write_report

    with pytest.raises(InputError, match="apireport/: names a folder"):
        write_report(costx.read_result(campaign), "apireport/")
    assert list(tmp_path.iterdir()) == []
