"""Bad input to the Python API: a costx error naming the argument, never a raw TypeError
from deep inside or a silent wrong answer (found by an audit of the public functions).

The analyses' and sweeps' arguments are checked in tests/test_api_input_analysis.py and
tests/test_api_input_sweeps.py.
"""

import math

import numpy as np
import pandas as pd
import pytest

import costx
from costx.errors import InputError, check_flag, check_int


def test_whole_numbers_take_numpy_integers_and_refuse_bools_floats_and_strings():
    assert check_int("trials", np.int64(5), 1, 10) == 5
    assert type(check_int("trials", np.uint64(5), 1, 10)) is int
    for bad in (True, np.bool_(False), 5.0, "5", None):
        with pytest.raises(InputError, match="trials must be a whole number"):
            check_int("trials", bad, 0, 10)
    with pytest.raises(InputError, match="between 1 and 10, not 11"):
        check_int("trials", 11, 1, 10)
    assert check_flag("keep_trials", np.bool_(False)) is False
    with pytest.raises(InputError, match="keep_trials must be True or False, not 'no'"):
        check_flag("keep_trials", "no")


def test_simulate_refuses_bools_a_string_keep_trials_and_a_progress_that_cannot_be_called():
    # True was taken as 1 trial and as seed 1; "no" as keep_trials=True; progress=3 failed
    # with "'int' object is not callable" only after the first block had run.
    for kwargs, message in [
        ({"trials": True}, "trials must be a whole number, not True"),
        ({"seed": True}, "seed must be a whole number, not True"),
        ({"keep_trials": "no"}, "keep_trials must be True or False"),
        ({"progress": 3}, "progress must be a callable"),
        ({"precision": "0.5"}, "precision must be a number, not '0.5'"),  # was taken
        ({"precision": True}, "precision must be a number, not True"),  # was 1.0: refused late
    ]:
        with pytest.raises(InputError, match=message):
            costx.simulate("ddg_drone_swarm", **{"trials": 10, **kwargs})


def test_numpy_values_in_a_scenario_mapping_load_as_the_plain_values():
    # Validation is strict about types: np.int64(20) rounds was "must be an integer".
    plain = costx.load_scenario("ddg_mixed_raid").to_dict()
    mixed = costx.load_scenario("ddg_mixed_raid").to_dict()
    mixed["effectors"][0]["rounds"] = np.int64(plain["effectors"][0]["rounds"])
    mixed["effectors"][0]["pk"] = {k: np.float64(v) for k, v in plain["effectors"][0]["pk"].items()}
    mixed["threats"][0]["count"] = np.int32(plain["threats"][0]["count"])
    loaded = costx.load_scenario(mixed)
    assert loaded == costx.load_scenario(plain)
    assert type(loaded.effectors[0].rounds) is int


def test_dollar_year_is_checked_on_every_kind_of_source():
    scenario = costx.load_scenario("ddg_drone_swarm")
    assert costx.load_scenario(scenario, dollar_year=np.int64(2020)).scenario.dollar_year == 2020
    assert costx.load_scenario("ddg_drone_swarm", dollar_year=np.int16(2020)) == (
        costx.load_scenario("ddg_drone_swarm", dollar_year=2020)
    )
    for source in (scenario, "ddg_drone_swarm"):
        for bad in ("2020", True, 2020.0):  # "2020" with a Scenario: a bare TypeError
            with pytest.raises(InputError, match="dollar_year must be a year from 1900"):
                costx.load_scenario(source, dollar_year=bad)


def test_toml_text_or_an_empty_string_is_not_taken_for_a_path():
    text = costx.load_scenario("ddg_drone_swarm").to_toml()
    with pytest.raises(InputError, match=r"not TOML text .* pass tomllib.loads"):
        costx.load_scenario(text)  # was OSError: File name too long
    with pytest.raises(InputError, match="an empty string"):
        costx.load_scenario("")  # was ": is a folder"


def test_a_path_argument_that_is_not_a_path_is_named(tmp_path):
    result = costx.simulate("ddg_drone_swarm", trials=20, seed=1)
    for bad in (None, 5, b"r.parquet", ""):
        with pytest.raises(InputError, match="path must be a file or folder path"):
            result.to_parquet(bad)
        with pytest.raises(InputError, match="path must be a file or folder path"):
            costx.read_result(bad)
    path = result.to_parquet(tmp_path / "r.parquet")
    assert costx.read_result(str(path)).summary().equals(result.summary())


def test_dwell_time_ranges_are_numbers_at_least_0():
    one = costx.dwell_time("helios", "shahed_136", 2.0)
    assert costx.dwell_time("helios", "shahed_136", np.float64(2.0)) == one
    assert costx.dwell_time("helios", "shahed_136", np.array(2.0)) == one
    for many in ([2.0], np.array([2.0]), pd.Series([2.0]), (r for r in [2.0])):
        got = costx.dwell_time("helios", "shahed_136", many)
        assert isinstance(got, np.ndarray) and got.tolist() == [one]
    assert costx.dwell_time("helios", "shahed_136", 50.0) == math.inf  # beyond reach: inf
    for bad in (float("nan"), -1.0, [2.0, -1.0]):  # nan and -1 gave inf ("cannot kill")
        with pytest.raises(InputError, match="range_km must be at least 0"):
            costx.dwell_time("helios", "shahed_136", bad)
    for bad in (None, "abc", [[1.0, 2.0]], np.ones((2, 2)), True, {"a": 1.0}):
        with pytest.raises(InputError, match="range_km must be a range in km"):
            costx.dwell_time("helios", "shahed_136", bad)


def test_dwell_time_says_when_the_laser_or_threat_is_something_else():
    scenario = costx.load_scenario("ddg_mixed_raid")
    sm2 = scenario.effectors[0]
    with pytest.raises(InputError, match="sm2 is an interceptor, not a laser"):
        costx.dwell_time(sm2, "shahed_136", 1.0)
    with pytest.raises(InputError, match="sm2 is an interceptor, not a threat"):
        costx.dwell_time("helios", sm2, 1.0)
    with pytest.raises(InputError, match="the laser must be a catalog name"):
        costx.dwell_time(None, "shahed_136", 1.0)
    laser = next(e for e in scenario.effectors if e.kind == "laser")
    threat = scenario.threats[0]
    assert costx.dwell_time(laser, threat, 1.0) == costx.dwell_time(
        laser.model_dump(mode="json", exclude_none=True), threat, 1.0
    )


def test_scenario_helpers_take_items_or_their_names():
    scenario = costx.load_scenario("ddg_mixed_raid")  # preferential: sm6 kept off drones
    drone = scenario.threats[0]
    assert scenario.detection_range_km("owa_drone") == scenario.detection_range_km(drone)
    assert scenario.allowed("sm2", "owa_drone") is True
    assert scenario.allowed("sm6", drone) is False
    with pytest.raises(InputError, match=r"has no effector 'nope' \(effectors: sm2, sm6"):
        scenario.allowed("nope", "owa_drone")  # was True, or AttributeError
    with pytest.raises(InputError, match="has no threat 'drones'"):
        scenario.detection_range_km("drones")  # was AttributeError
    with pytest.raises(InputError, match="expected a threat of ddg_mixed_raid or its name"):
        scenario.allowed("sm2", 5)


def test_a_mapping_with_namedtuples_loads_as_before():
    # python_values rebuilt tuples with type(data)(generator), which a namedtuple refuses.
    from collections import namedtuple

    point = namedtuple("point", "km pk")
    data = costx.load_scenario("red_sea_2024").to_dict()
    data["effectors"][0]["pk_by_range"] = {"drones": [point(1.0, 0.5), point(10.0, 0.7)]}
    plain = costx.load_scenario("red_sea_2024").to_dict()
    plain["effectors"][0]["pk_by_range"] = {"drones": [[1.0, 0.5], [10.0, 0.7]]}
    assert costx.load_scenario(data) == costx.load_scenario(plain)
