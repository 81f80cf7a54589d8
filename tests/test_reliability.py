"""Reliability of what costx writes and reads (issue 17).

No output clobbers something that is not a regular writable file; a campaign's two files
are one result or are refused; a sweep folder has one writer at a time; damaged data
pages are detected on read and on resume; tampered metadata, manifests and unreachable
schedulers are one-line errors; interrupts say what was saved.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
from scenarios import interceptor, laser, scenario, threat

import costx
from costx import io as costx_io
from costx import simulation as costx_simulation
from costx import sweeps as costx_sweeps
from costx.cli import main
from costx.errors import InputError
from costx.sweeps import LOCK, SweepInterrupted, SweepStore

GRID = {"effectors.sm2.rounds": [4, 12], "effectors.las.units": [0, 1]}


def _scenario():
    return scenario(
        [threat("drone", 6, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=20), laser()],
        name="reliable",
    )


def _campaign():
    data = _scenario()
    data["campaign"] = {"salvos": 3, "interval_h": 12.0}
    return data


@pytest.fixture(scope="module")
def campaign_results():
    """Two different results of one campaign scenario (different seeds)."""
    return (costx.simulate(_campaign(), trials=300, seed=1),
            costx.simulate(_campaign(), trials=300, seed=2))  # fmt: skip


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- 1. never clobber what is not a regular writable file --------------------------------


def _not_regular(kind: str, tmp_path):
    """A path that exists and is not a regular writable file, and a way to see it is
    untouched. (A FIFO stands in for a device such as /dev/null: both are replaced by a
    rename; writing the test against /dev/null itself would replace it when it fails.)"""
    target = tmp_path / f"{kind}.parquet"
    if kind == "fifo":
        os.mkfifo(target)
        return target, lambda: target.is_fifo()
    if kind == "symlink":
        real = tmp_path / "real.parquet"
        real.write_bytes(b"someone's data")
        target.symlink_to(real)
        return target, lambda: target.is_symlink() and real.read_bytes() == b"someone's data"
    if kind == "read_only":
        target.write_bytes(b"protected")
        target.chmod(0o444)
        return target, lambda: target.read_bytes() == b"protected"
    raise AssertionError(kind)


KINDS = ["fifo", "symlink", "read_only"]


@pytest.mark.parametrize("kind", KINDS)
def test_to_parquet_refuses_a_target_that_is_not_a_regular_writable_file(kind, tmp_path):
    result = costx.simulate(_scenario(), trials=50, seed=1)
    target, untouched = _not_regular(kind, tmp_path)
    with pytest.raises(InputError, match="not a regular writable file"):
        result.to_parquet(target)
    assert untouched()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("kind", KINDS)
def test_cli_run_refuses_such_a_target_before_simulating(kind, tmp_path, capsys, monkeypatch):
    target, untouched = _not_regular(kind, tmp_path)

    def no_work(*args, **kwargs):
        raise AssertionError("simulated although the output would be refused")

    monkeypatch.setattr(costx_simulation, "simulate", no_work)
    assert main(["run", "ddg_mixed_raid", "--out", str(target), "--no-progress"]) == 2
    line = _one_error_line(capsys)
    assert str(target) in line and "not a regular writable file" in line
    assert untouched()


def test_cli_report_refuses_such_a_target(tmp_path, capsys):
    result = tmp_path / "r.parquet"
    costx.simulate(_scenario(), trials=50, seed=1).to_parquet(result)
    target, untouched = _not_regular("fifo", tmp_path)
    assert main(["report", str(result), "--out", str(target)]) == 2
    assert "not a regular writable file" in _one_error_line(capsys)
    assert untouched()


def test_a_regular_file_is_still_replaced(tmp_path):
    target = tmp_path / "r.parquet"
    target.write_bytes(b"old result")
    costx.simulate(_scenario(), trials=50, seed=1).to_parquet(target)
    assert costx.read_result(target).n_trials == 50


# -- 2. a campaign's two files are one result ------------------------------------------


def test_both_files_carry_one_pair_id(campaign_results, tmp_path):
    path = campaign_results[0].to_parquet(tmp_path / "c.parquet")
    trials = costx_io.read_metadata(path)
    salvos = costx_io.read_metadata(costx_io.salvos_path(path))
    assert trials["pair_id"] == salvos["pair_id"] and len(trials["pair_id"]) == 32
    again = campaign_results[0].to_parquet(tmp_path / "d.parquet")
    assert costx_io.read_metadata(again)["pair_id"] != trials["pair_id"]  # one per write


def test_a_crash_between_the_two_renames_is_detected(campaign_results, tmp_path, monkeypatch):
    """The process dies (here: SystemExit) after the per-salvo file is renamed into place
    and before the per-trial file is: a new per-salvo file sits beside the old per-trial
    file, and read_result must refuse the pair instead of mixing two runs."""
    old, new = campaign_results
    path = tmp_path / "c.parquet"
    old.to_parquet(path)
    real_replace = os.replace
    calls = []

    def die_on_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise SystemExit("killed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", die_on_second)
    with pytest.raises(SystemExit):
        new.to_parquet(path)
    monkeypatch.undo()
    assert [os.path.basename(c) for c in calls] == ["c.salvos.parquet", "c.parquet"]
    with pytest.raises(InputError, match=r"c\.salvos\.parquet next to it belongs to another"):
        costx.read_result(path)


def test_ctrl_c_between_the_two_renames_is_held_back(campaign_results, tmp_path, monkeypatch):
    """A real SIGINT arriving after the first rename waits until the second is done: the
    pair is complete, and the interrupt then says the results were written."""
    old, new = campaign_results
    path = tmp_path / "c.parquet"
    old.to_parquet(path)
    real_replace = os.replace
    calls = []

    def interrupt_after_first(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", interrupt_after_first)
    with pytest.raises(costx_io.WrittenThenInterrupted) as info:
        new.to_parquet(path)
    monkeypatch.undo()
    assert len(calls) == 2 and str(path) in info.value.paths
    back = costx.read_result(path)
    pd.testing.assert_frame_equal(back.salvos, new.salvos)
    pd.testing.assert_frame_equal(back.trials, new.trials)


def test_a_full_disk_leaves_no_orphan_and_the_old_pair_intact(
    campaign_results, tmp_path, monkeypatch
):
    import errno

    old, new = campaign_results
    path = tmp_path / "c.parquet"
    old.to_parquet(path)
    real_write = pq.write_table
    calls = []

    def full_on_second(table, where, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", full_on_second)
    with pytest.raises(InputError, match="No space left on device"):
        new.to_parquet(path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.parquet", "c.salvos.parquet"]
    back = costx.read_result(path)
    pd.testing.assert_frame_equal(back.salvos, old.salvos)


def test_cli_interrupt_messages_say_what_was_written(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(costx_simulation, "simulate", interrupted)
    out = tmp_path / "r.parquet"
    assert main(["run", "ddg_mixed_raid", "--out", str(out), "--no-progress"]) == 130
    assert "no output was written" in capsys.readouterr().err
    monkeypatch.undo()

    def written_then_interrupted(self, path):
        raise costx_io.WrittenThenInterrupted([str(path)])

    monkeypatch.setattr(costx_simulation.SimulationResult, "to_parquet", written_then_interrupted)
    assert main(["run", "ddg_mixed_raid", "--trials", "20", "--out", str(out),
                 "--no-progress"]) == 130  # fmt: skip
    err = capsys.readouterr().err
    assert "interrupted after the results were written" in err and str(out) in err


# -- 3. one writer per sweep folder --------------------------------------------------------


def test_a_second_sweep_into_a_folder_in_use_is_refused(tmp_path):
    """While a sweep writes (here: from its progress callback), another sweep into the
    same folder, identical or not, is refused with the lock's owner, and the first
    sweep completes untouched."""
    out = tmp_path / "sw"
    errors = []

    def meanwhile(done, total):
        if done == 1:
            for seed in (5, 6):  # the same sweep, then another one
                try:
                    costx.sweep(_scenario(), GRID, trials=200, seed=seed, out=out)
                except InputError as err:
                    errors.append(str(err))

    first = costx.sweep(_scenario(), GRID, trials=200, seed=5, out=out, progress=meanwhile)
    assert len(errors) == 2
    for message in errors:
        assert "another costx sweep is writing to this folder" in message
        assert f"pid {os.getpid()} on {socket.gethostname()}" in message
    assert not (out / LOCK).exists()  # released at the end
    pd.testing.assert_frame_equal(costx.read_sweep(out).table, first.table)


def test_two_different_sweeps_started_at_once_never_both_write(tmp_path):
    """Two processes start different sweeps (seeds 1 and 2) into one folder at the same
    moment, in two folders at once: in each, exactly one succeeds, the other is refused
    with one line (the lock, or the other sweep's manifest), and the folder holds the
    winner's sweep only. (Before the lock, 1 run in 8 let both succeed.)"""
    import tomli_w

    (tmp_path / "s.toml").write_text(tomli_w.dumps(_scenario()))
    spec = tmp_path / "sweep.toml"
    spec.write_text('[sweep]\nscenario = "s.toml"\ntrials = 2000\n'
                    '[grid]\n"effectors.sm2.rounds" = [4, 8, 12, 16]\n')  # fmt: skip
    runs = []
    for folder in ("a", "b"):
        for seed in ("1", "2"):
            cmd = [sys.executable, "-m", "costx", "sweep", str(spec), "--out",
                   str(tmp_path / folder), "--seed", seed, "--no-progress"]  # fmt: skip
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True)  # fmt: skip
            runs.append((folder, seed, proc))
    results = []
    for folder, seed, proc in runs:
        _, err = proc.communicate(timeout=600)
        results.append((folder, seed, proc.returncode, err))
    for folder in ("a", "b"):
        mine = [(seed, code, err) for f, seed, code, err in results if f == folder]
        winners = [seed for seed, code, _ in mine if code == 0]
        assert len(winners) == 1, mine
        (loser,) = [err for _, code, err in mine if code != 0]
        assert "Traceback" not in loser and len(loser.strip().splitlines()) == 1, loser
        assert "another costx sweep is writing" in loser or "holds a different sweep" in loser
        back = costx.read_sweep(tmp_path / folder)
        assert back.seed == int(winners[0]) and len(back.points) == 4


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "sw"
    out.mkdir()
    (out / LOCK).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(),
                                        "started": "yesterday"}))  # fmt: skip
    costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
    assert not (out / LOCK).exists()
    assert len(costx.read_sweep(out).points) == 4


def test_a_lock_of_a_live_process_or_another_host_is_respected(tmp_path, capsys):
    out = tmp_path / "sw"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for owner in ({"pid": sleeper.pid, "host": socket.gethostname()},
                      {"pid": _dead_pid(), "host": "elsewhere.example"}):  # fmt: skip
            (out / LOCK).write_text(json.dumps(owner))
            with pytest.raises(InputError, match=f"pid {owner['pid']} on {owner['host']}"):
                costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
            assert json.loads((out / LOCK).read_text()) == owner  # left as it was
        code = main(["sweep", "ddg_magazine_laser", "--out", str(out), "--trials", "50",
                     "--no-progress"])  # fmt: skip
        assert code == 2
        assert "another costx sweep is writing to this folder" in _one_error_line(capsys)
    finally:
        sleeper.kill()
        sleeper.wait()


# -- 4. data pages are verified on read and on resume ----------------------------------


def _corrupt_a_data_page(path, column: int = 0) -> None:
    """Flip one bit of a column chunk's page data such that the file still decodes
    without its page checksums, to different values (silent corruption that only the
    checksum sees; the footer stays valid). Positions are tried from the chunk's end."""
    meta = pq.ParquetFile(path).metadata.row_group(0).column(column)
    start = meta.dictionary_page_offset or meta.data_page_offset
    end = start + meta.total_compressed_size
    original = path.read_bytes()
    clean = pq.read_table(path)
    for i in range(end - 1, start, -1):
        data = bytearray(original)
        data[i] ^= 0x01
        path.write_bytes(bytes(data))
        try:
            damaged = pq.read_table(path, page_checksum_verification=False)
        except Exception:  # this flip breaks the decoding itself
            continue
        if not damaged.equals(clean):
            return
    raise AssertionError("no silent one-bit corruption found")  # pragma: no cover


@pytest.mark.parametrize("keep_trials", [True, False])
def test_read_result_refuses_a_file_with_a_damaged_data_page(tmp_path, keep_trials):
    result = costx.simulate(_scenario(), trials=3000, seed=1, keep_trials=keep_trials)
    path = result.to_parquet(tmp_path / "r.parquet")
    _corrupt_a_data_page(path, column=1)
    with pytest.raises(InputError, match=r"r\.parquet: damaged Parquet file"):
        costx.read_result(path)


def test_resume_redoes_a_point_with_a_damaged_data_page(tmp_path):
    out = tmp_path / "sw"
    full = costx.sweep(_scenario(), GRID, trials=300, seed=2, out=out)
    victim = out / "point-0001.parquet"
    _corrupt_a_data_page(victim, column=3)
    with pytest.raises(InputError, match=r"point 1: point-0001\.parquet is damaged"):
        costx.read_sweep(out)
    seen = []
    again = costx.sweep(_scenario(), GRID, trials=300, seed=2, out=out,
                        progress=lambda d, t: seen.append(d))  # fmt: skip
    assert seen[0] == 3  # the damaged point is not taken as done
    pd.testing.assert_frame_equal(again.table, full.table)
    pd.testing.assert_frame_equal(costx.read_sweep(out).table, full.table)


def test_read_sweep_refuses_a_point_copied_from_another_sweep(tmp_path):
    """Same grid, same point index and values, another seed: only the fingerprint in
    the point's metadata tells them apart."""
    a, b = tmp_path / "a", tmp_path / "b"
    costx.sweep(_scenario(), GRID, trials=200, seed=1, out=a)
    costx.sweep(_scenario(), GRID, trials=200, seed=2, out=b)
    (a / "point-0002.parquet").write_bytes((b / "point-0002.parquet").read_bytes())
    with pytest.raises(InputError, match=r"point 2: .* belongs to another sweep"):
        costx.read_sweep(a)
    seen = []
    costx.sweep(_scenario(), GRID, trials=200, seed=1, out=a, progress=lambda d, t: seen.append(d))
    assert seen[0] == 3  # and a rerun redoes it
    costx.read_sweep(a)


# -- 7. tampered metadata and manifests, unreachable schedulers ---------------------------


def _retag(path, meta_bytes: bytes) -> None:
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({b"costx": meta_bytes}), path)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda m: b"{not json", id="not-json"),
        pytest.param(lambda m: b"[1, 2]", id="not-an-object"),
        pytest.param(
            lambda m: json.dumps({k: v for k, v in m.items() if k != "seed"}).encode(),
            id="missing-seed",
        ),
        pytest.param(lambda m: json.dumps({**m, "moments": {"x": 1}}).encode(), id="bad-moments"),
        pytest.param(lambda m: json.dumps({**m, "kind": "other"}).encode(), id="bad-kind"),
    ],
)
def test_tampered_result_metadata_is_a_one_line_error(tamper, tmp_path, capsys):
    path = costx.simulate(_scenario(), trials=100, seed=1).to_parquet(tmp_path / "r.parquet")
    _retag(path, tamper(costx_io.read_metadata(path)))
    with pytest.raises(InputError, match=r"r\.parquet: (damaged costx metadata|not a costx)"):
        costx.read_result(path)
    assert main(["report", str(path), "--out", str(tmp_path / "r.html")]) == 2
    _one_error_line(capsys)


SWEEP_TAMPERS = [
    pytest.param(lambda m: b"{not json", id="not-json"),
    pytest.param(lambda m: b"[]", id="not-an-object"),
    pytest.param(
        lambda m: json.dumps({k: v for k, v in m.items() if k != "points"}).encode(),
        id="missing-points",
    ),
    pytest.param(lambda m: json.dumps({**m, "seed": None}).encode(), id="changed-seed"),
    pytest.param(lambda m: b'{"format": "\xff"}', id="not-utf8"),
]


@pytest.mark.parametrize("tamper", SWEEP_TAMPERS)
def test_tampered_sweep_metadata_is_a_one_line_error_and_redone(tamper, tmp_path, capsys):
    """The manifest is in every point file's metadata: a file whose metadata was damaged
    or changed (its manifest no longer matches its fingerprint) is a damaged point:
    reading names it; resuming redoes it."""
    out = tmp_path / "sw"
    full = costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
    victim = out / "point-0000.parquet"
    _retag(victim, tamper(json.loads(pq.read_schema(victim).metadata[b"costx"])))
    with pytest.raises(InputError, match=r"point 0: point-0000\.parquet (is not|has damaged)"):
        costx.read_sweep(out)
    assert main(["plot", str(out), "--out", str(tmp_path / "figs")]) == 2
    _one_error_line(capsys)
    again = costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)  # resuming into it
    assert again.reused == 3
    pd.testing.assert_frame_equal(costx.read_sweep(out).table, full.table)


@pytest.mark.parametrize("tamper", SWEEP_TAMPERS)
def test_a_sweep_folder_whose_every_file_is_tampered_is_a_one_line_error(tamper, tmp_path):
    out = tmp_path / "sw"
    costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
    for part in out.glob("point-*.parquet"):
        _retag(part, tamper(json.loads(pq.read_schema(part).metadata[b"costx"])))
    with pytest.raises(InputError, match=r"sw: no point file with readable costx metadata"):
        costx.read_sweep(out)


def test_an_unreachable_dask_scheduler_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(costx_sweeps, "SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["sweep", "ddg_magazine_laser", "--out", str(tmp_path / "sw"), "--trials", "10",
                 "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--no-progress"])  # fmt: skip
    assert code == 2
    line = _one_error_line(capsys)
    assert f"127.0.0.1:{port}" in line and "cannot reach the Dask scheduler" in line


def test_an_unreachable_dask_scheduler_is_a_one_line_error_in_analyses(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(costx_sweeps, "SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["analyze", "margin", "ddg_drone_swarm", "--threat", "drones", "--add", "2",
                 "--offset", "effectors.essm.rounds=4", "--trials", "10",
                 "--out", str(tmp_path / "m.parquet"),
                 "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"])  # fmt: skip
    assert code == 2
    line = _one_error_line(capsys)
    assert f"127.0.0.1:{port}" in line and "cannot reach the Dask scheduler" in line
    assert not (tmp_path / "m.parquet").exists()


# -- 8. messages -----------------------------------------------------------------------


def test_an_interrupted_sweep_says_how_many_points_are_saved(tmp_path, capsys, monkeypatch):
    out = tmp_path / "sw"

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out, progress=stop_after_two)
    assert (info.value.saved, info.value.total) == (2, 4)
    assert not (out / LOCK).exists()

    real = costx_sweeps.sweep

    def cli_sweep(*args, **kwargs):
        kwargs["progress"] = stop_after_two
        return real(*args, **kwargs)

    monkeypatch.setattr(costx_sweeps, "sweep", cli_sweep)
    other = tmp_path / "cli"
    code = main(["sweep", "ddg_magazine_laser", "--out", str(other), "--trials", "50",
                 "--no-progress"])  # fmt: skip
    assert code == 130
    err = capsys.readouterr().err
    assert f"2 of 12 points are saved in {other}" in err and "rerun" in err
    assert "no output was written" not in err


def test_resume_removes_the_temporary_files_of_a_killed_run(tmp_path):
    out = tmp_path / "sw"
    costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
    leftovers = [out / ".point-0001.parquet.abc123.tmp", out / ".x.json.def.tmp"]
    for p in leftovers:
        p.write_bytes(b"half a file")
    costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
    assert not any(p.exists() for p in leftovers)


def test_a_killed_sweep_folder_with_only_temporaries_can_be_started(tmp_path):
    """A sweep killed before its first point was in place leaves a lock and temporaries;
    the rerun takes the stale lock over and starts, and leaves only the point files."""
    out = tmp_path / "sw"
    out.mkdir()
    (out / ".point-0000.parquet.x.tmp").write_bytes(b"{")
    (out / LOCK).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    costx.sweep(_scenario(), GRID, trials=100, seed=1, out=out)
    assert sorted(p.name for p in out.iterdir()) == [f"point-000{i}.parquet" for i in range(4)]


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_bad_dollar_year_is_blamed_on_the_option(command, tmp_path, capsys):
    target = "ddg_mixed_raid" if command == "run" else "ddg_magazine_laser"
    out = tmp_path / ("r.parquet" if command == "run" else "sw")
    code = main([command, target, "--dollar-year", "3000", "--out", str(out), "--no-progress"])
    assert code == 2
    line = _one_error_line(capsys)
    assert line.startswith("error: --dollar-year 3000: must be between")
    assert "bundled:" not in line
    with pytest.raises(InputError, match="dollar_year must be a year"):
        costx.load_scenario("ddg_mixed_raid", dollar_year=3000)


def test_error_output_is_capped_with_a_count(tmp_path, capsys):
    data = _scenario()
    data["threats"] = [dict(data["threats"][0], name=f"t{i}", count=-1) for i in range(200)]
    path = tmp_path / "many.toml"
    import tomli_w

    path.write_text(tomli_w.dumps(data))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 51
    assert err[-1].startswith("error: ... and ") and err[-1].endswith(" more problems")
    assert main(["run", str(path), "--no-progress"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 51


def test_huge_ratios_are_printed_with_a_few_significant_digits(tmp_path, capsys):
    data = _scenario()
    data["threats"][0]["unit_cost_usd"] = 1e-300  # valid: a raid that costs nothing
    code = main(["run", str(_write(tmp_path, data)), "--trials", "50", "--no-progress",
                 "--out", str(tmp_path / "r.parquet")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "cost_exchange_defense_over_attack" in line)
    assert re.search(r" \d\.\d{2}e\+30\d ", row), row  # three significant digits
    assert not re.search(r"[\d,]{20,}", out)  # never hundreds of digits


def _write(tmp_path, data):
    import tomli_w

    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_plain_parquet_readers_still_read_checksummed_files(tmp_path):
    """Page checksums are part of the Parquet format: pandas, pyarrow and DuckDB read the
    files as before."""
    path = costx.simulate(_scenario(), trials=200, seed=1).to_parquet(tmp_path / "r.parquet")
    assert len(pd.read_parquet(path)) == 200
    assert pq.read_table(path, page_checksum_verification=True).num_rows == 200
    duckdb = pytest.importorskip("duckdb")
    assert duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall() == [(200,)]


def test_store_release_is_idempotent(tmp_path):
    m = costx_sweeps.manifest(costx.load_scenario(_scenario()), [{"a": 1}], 0, 10, 0, False)
    store = SweepStore(tmp_path / "x", m)
    store.prepare()
    assert (tmp_path / "x" / LOCK).exists()
    store.release()
    store.release()
    assert not (tmp_path / "x" / LOCK).exists()
