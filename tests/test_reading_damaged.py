"""Result files changed after costx wrote them are refused when read, with one line naming
the file and what is wrong, instead of reading as if whole or failing later in a report or
a figure: cases from an audit of reading results back (the files of
/tmp/audit_io/make_bad.py), each of which read before."""

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from scenarios import mixed

import costx
from costx.cli import main
from costx.errors import InputError
from costx.reading import load_results


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("written") / "base.parquet"
    costx.simulate(mixed(), trials=300, seed=3).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("campaign") / "camp.parquet"
    costx.simulate("pacific_airbase", trials=40, seed=1).to_parquet(path)
    return path


def _damaged(source: Path, target: Path, change=lambda meta: None, table=None) -> Path:
    """``source`` rewritten to ``target`` with its table replaced and its costx metadata
    changed by ``change``, as pyarrow lets anyone do."""
    original = pq.read_table(source)
    meta = dict(original.schema.metadata)
    costx_meta = json.loads(meta[b"costx"])
    change(costx_meta)
    meta[b"costx"] = json.dumps(costx_meta).encode()
    table = original if table is None else table(original)
    pq.write_table(table.replace_schema_metadata(meta), target)
    return target


def _refused(path: Path, *expected: str, read=costx.read_result) -> str:
    with pytest.raises(InputError) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for text in expected:
        assert text in message, message
    return message


def _retyped(table: pa.Table) -> pa.Table:
    i = table.column_names.index("leaked")
    return table.set_column(i, "leaked", pa.array(["x"] * table.num_rows))


# -- finding 1: columns, types and rows ---------------------------------------------------


def test_a_missing_or_retyped_column_is_refused_naming_it(written, tmp_path):
    """Reading gave a result whose report failed with KeyError 'leaked', and whose
    figures failed with a TypeError."""
    gone = _damaged(written, tmp_path / "gone.parquet", table=lambda t: t.drop(["leaked"]))
    _refused(gone, "column 'leaked' is missing")
    retyped = _damaged(written, tmp_path / "str.parquet", table=_retyped)
    _refused(retyped, "column 'leaked' is", "not int32 as costx writes it")
    added = _damaged(
        written,
        tmp_path / "extra.parquet",
        table=lambda t: t.append_column("mine", pa.array([1.0] * t.num_rows)),
    )
    _refused(added, "column 'mine' is not one costx writes")


def test_a_filtered_table_is_not_read_as_the_whole_run(written, tmp_path):
    """10 of 300 rows kept with the metadata read as a run of 300 trials (figures titled
    "300 trials")."""
    few = _damaged(written, tmp_path / "few.parquet", table=lambda t: t.filter(
        pc.less(t["trial"], 10)))  # fmt: skip
    _refused(few, "10 rows, but its metadata records 300 trials")


def test_a_damaged_per_salvo_table_is_refused_naming_that_file(campaign, tmp_path):
    folder = tmp_path / "pair"
    folder.mkdir()
    shutil.copy(campaign, folder / "camp.parquet")
    salvos = campaign.with_name("camp.salvos.parquet")
    _damaged(salvos, folder / "camp.salvos.parquet", table=lambda t: t.drop(["salvo"]))
    with pytest.raises(InputError, match=r"camp\.salvos\.parquet: column 'salvo' is missing"):
        costx.read_result(folder / "camp.parquet")


def test_the_cli_refuses_a_damaged_result_with_status_2(written, tmp_path, capsys):
    gone = _damaged(written, tmp_path / "gone.parquet", table=lambda t: t.drop(["leaked"]))
    assert main(["report", str(gone), "--out", str(tmp_path / "r.html")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: {gone}: column 'leaked' is missing" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


# -- finding 3: metadata of the wrong type -------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("provenance", ["x"], "provenance must map field paths to records, not list"),
        ("provenance", {"a.b": "x"}, "provenance must map field paths to records"),
        ("trials", -3, "trials must be an integer, at least 1; not -3"),
        ("trials", 300.0, "trials must be an integer"),
        ("seed", "x", "seed must be an integer, 0 to"),
        ("seed", True, "seed must be an integer"),
        ("moments", [], "moments must be a mapping"),
    ],
)
def test_metadata_of_the_wrong_type_is_refused(written, tmp_path, key, value, expected):
    bad = _damaged(written, tmp_path / "bad.parquet", lambda m: m.__setitem__(key, value))
    _refused(bad, "damaged costx metadata", expected)


def test_trials_must_equal_the_moments_trials(written, tmp_path):
    def change(meta):
        meta["moments"]["n"] = 299

    _refused(_damaged(written, tmp_path / "n.parquet", change), "trials 300, but its moments")


# -- finding 8: a pair copied under another name -------------------------------------------


def test_a_campaign_pair_copied_under_another_name_reads(campaign, tmp_path):
    shutil.copy(campaign, tmp_path / "a.parquet")
    shutil.copy(campaign.with_name("camp.salvos.parquet"), tmp_path / "a.salvos.parquet")
    back = costx.read_result(tmp_path / "a.parquet")
    assert back.has_salvos and len(back.salvos) == len(costx.read_result(campaign).salvos)
    # the pair_id still refuses a per-salvo file of another run
    costx.simulate("pacific_airbase", trials=40, seed=2).to_parquet(tmp_path / "b.parquet")
    shutil.copy(tmp_path / "b.salvos.parquet", tmp_path / "a.salvos.parquet")
    _refused(tmp_path / "a.parquet", "belongs to another result")


# -- finding 9: a run to a precision keeps what it reached ---------------------------------


def test_a_run_to_a_precision_keeps_it_in_its_file(tmp_path):
    reached = costx.simulate(mixed(), trials=20_000, seed=1, precision=0.5)
    capped = costx.simulate(mixed(), trials=10_000, seed=1, precision=0.0001)
    for name, result in (("reached", reached), ("capped", capped)):
        path = result.to_parquet(tmp_path / f"{name}.parquet")
        assert costx.read_result(path).precision == result.precision
        assert main(["report", str(path), "--out", str(tmp_path / f"{name}.html")]) == 0
    assert capped.precision.reached is False
    html = (tmp_path / "capped.html").read_text()
    assert "(to 0.01 % of cost_exchange_defense_over_attack; not reached" in html
    assert "; reached)" in (tmp_path / "reached.html").read_text()
    fixed = costx.simulate(mixed(), trials=100, seed=1).to_parquet(tmp_path / "f.parquet")
    assert costx.read_result(fixed).precision is None


# -- finding 10: messages -------------------------------------------------------------------


def test_an_unreadable_file_says_permission_denied(written, monkeypatch, capsys, tmp_path):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Failed to open local file. Detail: [errno 13]")

    monkeypatch.setattr(pq, "read_schema", denied)
    monkeypatch.setattr(pq, "read_table", denied)
    _refused(written, "cannot read: permission denied")
    assert main(["report", str(written), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot read: permission denied" in err and "Parquet" not in err


def _sweep(folder: Path, points: int = 2) -> Path:
    grid = {"effectors.sm2.rounds": [4, 8, 12][:points]}
    costx.sweep(mixed(), grid, trials=50, seed=1, out=folder)
    return folder


def test_a_point_file_is_called_one_and_its_folder_named(tmp_path, capsys):
    folder = _sweep(tmp_path / "sw")
    point = folder / "point-0000.parquet"
    _refused(point, "a point file of a costx sweep", f"give its folder ({folder})")
    assert main(["report", str(point), "--out", str(tmp_path / "r.html")]) == 2
    assert "a point file of a costx sweep" in capsys.readouterr().err


def test_a_stray_point_file_in_a_sweep_folder_is_refused(tmp_path, capsys):
    """A point-0002.parquet in a sweep of 2 points was ignored by read_sweep, while pandas
    and DuckDB, reading the folder as one table, took its rows for the sweep's."""
    folder = _sweep(tmp_path / "sw")
    shutil.copy(folder / "point-0001.parquet", folder / "point-0002.parquet")
    with pytest.raises(InputError, match=r"point-0002\.parquet is not a point of this sweep"):
        costx.read_sweep(folder)
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 2
    assert "it has 2 points, point-0000.parquet to point-0001.parquet" in " ".join(
        capsys.readouterr().err.split()
    )


# -- finding 4: an unreadable sweep folder -------------------------------------------------


def test_an_unreadable_sweep_folder_is_an_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    """chmod 000 on a sweep folder (as a user other than root) gave a PermissionError
    traceback; listing it fails the same way here."""
    folder = _sweep(tmp_path / "sw")
    listing = Path.iterdir

    def iterdir(self):
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(InputError, match="sw: cannot read the folder: permission denied"):
        costx.read_sweep(folder)
    with pytest.raises(InputError, match="sw: cannot read the folder: permission denied"):
        load_results(folder)
    for command in ("report", "plot"):
        out = tmp_path / ("r.html" if command == "report" else "figs")
        assert main([command, str(folder), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "cannot read the folder: permission denied" in err and "Traceback" not in err


# -- analyses ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysis_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "m.parquet"
    kwargs = {"threat": "drone", "add": 4, "offsets": {"effectors.sm2.rounds": 2}}
    costx.marginal_exchange(mixed(), trials=200, **kwargs).to_parquet(path)
    return path


def _analysis_refused(path: Path, *expected: str) -> None:
    _refused(path, *expected, read=costx.read_analysis)
    assert main(["report", str(path), "--out", str(path.with_suffix(".html"))]) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("inputs"), "damaged costx metadata (KeyError: 'inputs')"),
        (lambda m: m.update(inputs=[1]), "inputs must be a mapping"),
        (lambda m: m.update(seed="x"), "seed must be a whole number >= 0, got 'x'"),
        (lambda m: m.update(trials=True), "trials must be a whole number"),
        (lambda m: m.update(provenance=[1, 2]), "provenance must be a mapping"),
    ],
)
def test_an_analysis_with_damaged_metadata_is_refused(analysis_file, tmp_path, change, expected):
    """read_analysis raised KeyError 'inputs' or ValueError int('x') with a traceback from
    costx report and plot; a list for provenance was taken."""
    _analysis_refused(_damaged(analysis_file, tmp_path / "bad.parquet", change), expected)


def test_an_analysis_table_with_a_column_dropped_or_rows_filtered_is_refused(
    analysis_file, tmp_path
):
    """A column dropped with pyarrow, metadata kept, crashed the report (KeyError
    'ratio_per_raid'); rows filtered read as the whole table."""
    first = pq.read_table(analysis_file).column_names[1]
    dropped = _damaged(analysis_file, tmp_path / "drop.parquet",
                       table=lambda t: t.drop_columns([first]))  # fmt: skip
    _analysis_refused(dropped, "columns are not the ones costx wrote", f"missing: {first}")
    filtered = _damaged(analysis_file, tmp_path / "rows.parquet", table=lambda t: t.slice(0, 0))
    _analysis_refused(filtered, "0 rows, but its metadata records 1")
    assert costx.read_analysis(analysis_file).table.shape[0] == 1  # the file itself reads


def test_an_analysis_written_to_a_folder_name_is_refused(tmp_path):
    kwargs = {"threat": "drone", "add": 4, "offsets": {"effectors.sm2.rounds": 2}}
    analysis = costx.marginal_exchange(mixed(), trials=100, **kwargs)
    with pytest.raises(InputError, match="names a folder; give a file name"):
        analysis.to_parquet(f"{tmp_path}/new/")
    assert not (tmp_path / "new").exists()
