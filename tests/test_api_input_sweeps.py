"""Bad input to costx.sweep, SweepResult and read_sweep: an InputError naming the
argument and what is allowed, before anything runs (no raw TypeError, KeyError,
IndexError or AttributeError, no silently ignored argument)."""

import numpy as np
import pandas as pd
import pytest
from scenarios import interceptor, mixed, scenario, threat

import costx
from costx.errors import InputError

GRID = {"effectors.sm2.rounds": [4, 8]}


def _scenario():
    return costx.load_scenario(
        scenario([threat("drone", 4)], [interceptor(pk={"drone": 0.7}, rounds=20)], name="tiny")
    )


def _sweep(grid=None, **kw):
    return costx.sweep(_scenario(), GRID if grid is None else grid, **{"trials": 50, **kw})


@pytest.fixture(scope="module")
def result():
    return _sweep({"effectors.sm2.rounds": [4, 8, 12, 16]})


class _NoCluster:
    """dask.distributed stand-ins that fail the test if a cluster or client starts."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("a Dask cluster or client was started")


class _SyncClient:
    """A stand-in Client running each task when submitted (with as_completed below)."""

    def __init__(self, *args, **kwargs):
        self.chunks = []

    def submit(self, fn, *args, pure=True):
        self.chunks.append(args[4])  # the chunk's trials
        done = fn(*args)
        return type("Done", (), {"result": lambda self: done})()

    def close(self):
        pass


class _AsCompleted:
    def __init__(self, futures):
        self.futures = list(futures)

    def __iter__(self):
        while self.futures:
            yield self.futures.pop(0)

    def add(self, future):
        self.futures.append(future)


@pytest.fixture
def no_cluster(monkeypatch):
    """No Dask cluster or client may start (without Dask installed, none can)."""
    try:
        import dask.distributed
    except ImportError:
        return
    monkeypatch.setattr(dask.distributed, "LocalCluster", _NoCluster)
    monkeypatch.setattr(dask.distributed, "Client", _NoCluster)


# -- 1. chunk_trials ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunk", "message"),
    [(-5, "chunk_trials must be between 1 and"), (0, "chunk_trials must be between 1 and"),
     (1.5, "chunk_trials must be a whole number"), ("x", "chunk_trials must be a whole number"),
     (True, "chunk_trials must be a whole number")],
)  # fmt: skip
def test_chunk_trials_is_checked_before_any_cluster_starts(no_cluster, chunk, message):
    with pytest.raises(InputError, match=message):
        _sweep(backend="dask", chunk_trials=chunk)


def test_chunk_trials_with_the_local_backend_is_refused():
    with pytest.raises(InputError, match=r"chunk_trials= is the trials per task of backend='dask'"):
        _sweep(chunk_trials=20)


def test_a_valid_chunk_trials_chunks_the_dask_tasks(monkeypatch):
    dask_distributed = pytest.importorskip("dask.distributed")
    client = _SyncClient()
    monkeypatch.setattr(dask_distributed, "LocalCluster", _NoCluster)
    monkeypatch.setattr(dask_distributed, "Client", lambda *a, **k: client)
    monkeypatch.setattr(dask_distributed, "as_completed", _AsCompleted)
    chunked = _sweep(backend="dask", chunk_trials=np.int64(20), scheduler="tcp://x:1")
    assert client.chunks == [20, 20, 10, 20, 20, 10]
    pd.testing.assert_frame_equal(chunked.table, _sweep().table)


# -- 2. SweepResult.summary / moments index -----------------------------------------------


@pytest.mark.parametrize(
    ("index", "message"),
    [(4, r"index: no point 4 \(0 \.\. 3, or -4 \.\. -1\)"), (-5, r"index: no point -5 "),
     ("0", "index: a point index or its grid values, not '0'"),
     (1.0, "index: a point index or its grid values, not 1.0"),
     (True, "index: a point index or its grid values, not True"),
     ({"effectors.sm2.rounds": 5}, "index: no point with effectors.sm2.rounds=5")],
)  # fmt: skip
def test_summary_and_moments_check_the_point_index(result, index, message):
    with pytest.raises(InputError, match=message):
        result.summary(index)
    with pytest.raises(InputError, match=message):
        result.moments(index)


def test_summary_takes_an_index_or_the_grid_values_as_compare_does(result):
    expected = result.summary(2)
    pd.testing.assert_frame_equal(result.summary(np.int64(2)), expected)
    pd.testing.assert_frame_equal(result.summary(-2), expected)  # four points: -2 is 2
    assert result.moments(-1) == result.moments(3)
    pd.testing.assert_frame_equal(result.summary({"effectors.sm2.rounds": 12}), expected)
    assert result.moments({"effectors.sm2.rounds": 12}) == result.moments(2)


# -- 3. scheduler without Dask ------------------------------------------------------------


def test_a_scheduler_without_the_dask_backend_is_refused(no_cluster):
    with pytest.raises(InputError, match=r"scheduler= is the Dask scheduler of backend='dask'"):
        _sweep(scheduler="tcp://x:1")
    with pytest.raises(InputError, match="scheduler must be a Dask scheduler's address"):
        _sweep(backend="dask", scheduler=5)


# -- 4. and 5. grid paths and values -------------------------------------------------------


def test_a_grid_path_that_is_not_text_is_named():
    with pytest.raises(InputError, match=r"sweep: grid: path 5 is not text; give a dotted path"):
        _sweep({5: [4]})
    with pytest.raises(InputError, match=r"sweep: grid\[0\]: path 5 is not text"):
        _sweep([{5: 4}])


@pytest.mark.parametrize(
    "values",
    [np.arange(4, 9, 4), pd.Series([4, 8]), pd.Index([4, 8]), list(np.arange(4, 9, 4)),
     (np.int64(4), np.int64(8))],
    ids=["array", "series", "index", "list-of-numpy", "tuple-of-numpy"],
)  # fmt: skip
def test_numpy_and_pandas_grid_values_are_lists(values):
    swept = _sweep({"effectors.sm2.rounds": values})
    assert swept.points == [{"effectors.sm2.rounds": 4}, {"effectors.sm2.rounds": 8}]
    assert all(type(p["effectors.sm2.rounds"]) is int for p in swept.points)
    pd.testing.assert_frame_equal(swept.table, _sweep().table)


def test_numpy_values_in_cases_and_a_2d_array_of_values():
    cases = _sweep([{"effectors.sm2.rounds": np.int64(4)}, {"effectors.sm2.rounds": 8}])
    assert cases.points == [{"effectors.sm2.rounds": 4}, {"effectors.sm2.rounds": 8}]
    with pytest.raises(InputError, match=r"expected a list of values, got a 2-D array"):
        _sweep({"effectors.sm2.rounds": np.array([[4, 8]])})


# -- 6. progress --------------------------------------------------------------------------


def test_a_progress_that_is_not_callable_is_refused_before_any_point_runs(monkeypatch):
    def runs(*args, **kwargs):
        raise AssertionError("a point ran")

    monkeypatch.setattr(costx.sweeps, "run_point", runs)
    with pytest.raises(InputError, match="progress must be a function"):
        _sweep(progress=3)


# -- 7. paths -----------------------------------------------------------------------------


def test_path_arguments_are_checked(result, tmp_path):
    with pytest.raises(InputError, match="out must be a file or folder path"):
        _sweep(out=5)
    with pytest.raises(InputError, match="folder must be a file or folder path"):
        costx.read_sweep(None)
    with pytest.raises(InputError, match="folder must be a file or folder path"):
        result.to_parquet(None)
    with pytest.raises(InputError, match="no such folder"):
        costx.read_sweep(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="file: not a folder"):
        costx.read_sweep(tmp_path / "file")


# -- 8. keep_trials -----------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["no", 1, None])
def test_keep_trials_must_be_a_bool(keep):
    with pytest.raises(InputError, match="keep_trials must be True or False"):
        _sweep(keep_trials=keep)


def test_keep_trials_takes_a_numpy_bool():
    assert _sweep(keep_trials=np.bool_(True)).has_trials
    assert not _sweep(keep_trials=np.bool_(False)).has_trials


def test_a_dataframe_grid_is_a_list_of_cases_and_a_dataframe_of_choices_is_explained():
    """From a Python walkthrough: a DataFrame of cases given to sweep() was refused as
    'expected a mapping of path to values or a list of cases'; given as cheapest's
    choices= it was told to 'give at least one path', which it had."""
    import pandas as pd

    cases = pd.DataFrame({"effectors.sm2.rounds": [4, 8], "effectors.las.units": [0, 1]})
    result = costx.sweep(mixed(), cases, trials=50)
    assert result.points == cases.to_dict("records")
    with pytest.raises(InputError, match=r"choices: got a DataFrame; give a mapping of path"):
        costx.cheapest(mixed(), choices=cases, require={"leakers": 2.0}, trials=50)
