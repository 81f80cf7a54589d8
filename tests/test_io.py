"""Parquet results: complete metadata, faithful round trip, atomic writes."""

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scenarios import mixed

import costx
from costx.errors import InputError
from costx.io import read_metadata


@pytest.fixture(scope="module")
def result():
    return costx.simulate(mixed(), trials=1500, seed=9)


def test_round_trip_with_trials(result, tmp_path):
    path = result.to_parquet(tmp_path / "r.parquet")
    back = costx.read_result(path)
    pd.testing.assert_frame_equal(back.trials, result.trials)
    pd.testing.assert_frame_equal(back.summary(), result.summary())
    assert back.scenario == result.scenario
    assert (back.seed, back.n_trials) == (9, 1500)
    meta = read_metadata(path)
    assert meta["costx_version"] == costx.__version__
    assert meta["kind"] == "trials"
    assert costx.load_scenario(
        dict(__import__("tomllib").loads(meta["scenario_toml"]))
    ) == costx.load_scenario(mixed())
    # pandas alone reads the file: the per-trial table is a plain Parquet table
    assert len(pd.read_parquet(path)) == 1500


def test_summary_only_result_writes_the_summary(tmp_path):
    lean = costx.simulate(mixed(), trials=800, seed=9, keep_trials=False)
    path = lean.to_parquet(tmp_path / "s.parquet")
    table = pd.read_parquet(path)
    assert "measure" in table.columns and "cost_per_kill_usd" in set(table["measure"])
    back = costx.read_result(path)
    assert not back.has_trials
    pd.testing.assert_frame_equal(back.summary(), lean.summary())


def test_interrupted_write_leaves_nothing_behind(result, tmp_path, monkeypatch):
    target = tmp_path / "r.parquet"
    target.write_bytes(b"previous result")

    def crash(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        result.to_parquet(target)
    assert target.read_bytes() == b"previous result"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["r.parquet"]  # no temporary left


def test_reading_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        costx.read_result(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="not a Parquet file"):
        costx.read_result(tmp_path / "text.parquet")
    pq.write_table(pa.table({"x": [1]}), tmp_path / "plain.parquet")
    with pytest.raises(InputError, match="not a costx result"):
        costx.read_result(tmp_path / "plain.parquet")
    bad = pa.table({"x": [1]}).replace_schema_metadata(
        {b"costx": json.dumps({"format": "other/9"}).encode()}
    )
    pq.write_table(bad, tmp_path / "future.parquet")
    with pytest.raises(InputError, match="unsupported costx result format"):
        costx.read_result(tmp_path / "future.parquet")


def test_missing_folder_is_a_clear_error(result, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        result.to_parquet(tmp_path / "nowhere" / "r.parquet")


def test_a_failing_disk_is_a_clear_error_and_leaves_nothing(result, tmp_path, monkeypatch, capsys):
    """Disk full (or permission denied) while writing: InputError naming the file, exit 2
    from the CLI, no traceback, the previous file untouched and no temporary left."""
    import errno
    import os

    from costx.cli import main

    target = tmp_path / "r.parquet"
    target.write_bytes(b"previous result")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(InputError, match=r"r\.parquet: cannot write: No space left on device"):
        result.to_parquet(target)
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["r.parquet"]
    code = main(["run", "ddg_mixed_raid", "--trials", "50", "--out", str(target), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write: No space left on device" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["r.parquet"]


def test_a_rename_failing_partway_puts_back_the_files_already_replaced(tmp_path, monkeypatch):
    """Several files written together (a campaign's pair, every figure of costx plot):
    when a rename fails, the files already replaced get their old contents back (they
    were lost before: the new ones were removed, the old ones gone), a new file is
    removed, a path given twice is undone once, and no temporary or backup is left; a
    file that cannot be put back keeps its backup, which the error names."""
    import errno
    import os

    from costx.io import write_files_atomic

    real_replace, real_link = os.replace, os.link
    paths = [tmp_path / f"f{i}.png" for i in range(4)]

    def reset():
        for p in tmp_path.iterdir():
            p.unlink()
        for p in paths[:3]:
            p.write_bytes(b"old " + p.name.encode())

    def failing(at: int, restore_fails: bool = False):
        calls = []

        def replace(src, dst):
            calls.append(dst)
            if len(calls) == at or (restore_fails and ".old.tmp" in str(src)):
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return real_replace(src, dst)

        return replace

    def writers(order):
        return [(paths[i], lambda fh, i=i: fh.write(b"new " + paths[i].name.encode()))
                for i in order]  # fmt: skip

    def names():
        return sorted(p.name for p in tmp_path.iterdir())

    # f0, f1 and the new f3 renamed, then f2 fails: f0 and f1 put back, f3 removed
    reset()
    monkeypatch.setattr(os, "replace", failing(4))
    undone = (r"f2\.png: cannot write: Input/output error \(put back f1\.png, f0\.png as "
              r"they were; removed the new f3\.png again\)")  # fmt: skip
    with pytest.raises(InputError, match=undone):
        write_files_atomic(writers([0, 1, 3, 2]))
    assert [p.read_bytes() for p in paths[:3]] == [b"old " + p.name.encode() for p in paths[:3]]
    assert names() == ["f0.png", "f1.png", "f2.png"]
    # the same path twice: undone once, to its old contents, no backup left
    reset()
    monkeypatch.setattr(os, "replace", failing(3))
    with pytest.raises(InputError, match=r"put back f0\.png as they were\)$"):
        write_files_atomic(writers([0, 0, 1]))
    assert paths[0].read_bytes() == b"old f0.png" and names() == ["f0.png", "f1.png", "f2.png"]
    # a file that cannot be put back: the error names its backup, which is kept
    reset()
    monkeypatch.setattr(os, "replace", failing(2, restore_fails=True))
    with pytest.raises(InputError, match=r"could not undo f0\.png \(its previous file is "):
        write_files_atomic(writers([0, 1]))
    backups = [p for p in tmp_path.iterdir() if p.name.endswith(".old.tmp")]
    assert len(backups) == 1 and backups[0].read_bytes() == b"old f0.png"
    # a file system without hard links: the new files are removed, as before
    reset()
    monkeypatch.setattr(os, "replace", failing(2))
    monkeypatch.setattr(os, "link", lambda a, b: (_ for _ in ()).throw(OSError(errno.EPERM, "no")))
    with pytest.raises(InputError, match=r"removed the new f0\.png again\)$"):
        write_files_atomic(writers([0, 1]))
    assert names() == ["f1.png", "f2.png"]
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "link", real_link)
    reset()
    write_files_atomic(writers([0, 1, 2, 3]))  # nothing failing: all four new, nothing else
    assert [p.read_bytes() for p in paths] == [b"new " + p.name.encode() for p in paths]
    assert names() == [p.name for p in paths]
