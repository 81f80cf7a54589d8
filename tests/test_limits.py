"""Limits checked before any work starts, and numbers that stay finite (issue 17).

Memory: a run, a campaign or a sweep whose estimated memory exceeds what the machine has
is refused at once, with the estimate and what to do. Numbers: every numeric field at
the ends of its allowed range runs with finite results, and a run whose kernels break
``killed + leaked = threats`` is an internal error naming the scenario.
"""

from __future__ import annotations

import math
import os
import time
import warnings

import numpy as np
import pytest
import tomli_w
from scenarios import interceptor, laser, mixed, railgun, scenario, threat

import costx
from costx import simulation
from costx.cli import main
from costx.errors import InputError, InternalError, ScenarioError
from costx.scenario import MAX_FILE_BYTES

GB = 10**9


@pytest.fixture
def eight_gb(monkeypatch):
    """A machine with 8 GB available, whatever this one has."""
    monkeypatch.setattr(simulation, "available_memory_bytes", lambda: 8 * GB)


def _no_kernel(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("work started although the limit should have refused it")

    monkeypatch.setattr(simulation.Lowered, "__init__", refuse)


# -- memory, before any work ---------------------------------------------------------------


def test_available_memory_is_read_on_this_machine():
    have = simulation.available_memory_bytes()
    assert have is None or 0 < have < 2**60


def test_a_billion_kept_trials_are_refused_at_once(eight_gb, monkeypatch):
    _no_kernel(monkeypatch)
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        costx.simulate(mixed(), trials=10**9, seed=0)
    message = str(info.value)
    assert message.startswith("mixed: 1,000,000,000 trials with per-trial tables need about")
    assert "8.0 GB available here" in message and "keep_trials=False" in message
    assert time.perf_counter() - started < 5


def test_cli_run_with_a_billion_trials_is_one_line_and_exit_2(eight_gb, monkeypatch, capsys):
    _no_kernel(monkeypatch)
    assert main(["run", "ddg_mixed_raid", "--trials", "1000000000", "--no-progress"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "need about" in lines[0] and "--summary-only" in lines[0]
    with pytest.raises(SystemExit) as info:  # argparse refuses the option itself
        main(["run", "ddg_mixed_raid", "--trials", "10000000000000", "--no-progress"])
    assert info.value.code == 2
    assert "--trials: must be at most 1,000,000,000,000" in capsys.readouterr().err


def test_summary_only_needs_the_same_memory_for_any_number_of_trials():
    s = costx.load_scenario(mixed())
    small = simulation.estimate_memory_bytes(s, 10**6, keep_trials=False)
    assert simulation.estimate_memory_bytes(s, 10**12, keep_trials=False) == small < GB


def test_a_long_campaign_with_kept_tables_is_refused_and_summary_only_is_not(eight_gb, monkeypatch):
    """1000 salvos x 100,000 trials of kept per-salvo rows: about 9 GB measured (issue 17)."""
    data = mixed()
    data["campaign"] = {"salvos": 1000, "interval_h": 24.0}
    s = costx.load_scenario(data)
    need = simulation.estimate_memory_bytes(s, 100_000, keep_trials=True)
    assert 9 * GB < need < 30 * GB
    _no_kernel(monkeypatch)
    with pytest.raises(InputError, match="keep_trials=False"):
        costx.simulate(s, trials=100_000, seed=0)
    assert simulation.estimate_memory_bytes(s, 100_000, keep_trials=False) < GB


def test_the_estimate_covers_the_tables_it_keeps():
    data = mixed()
    data["campaign"] = {"salvos": 3, "interval_h": 24.0}
    result = costx.simulate(data, trials=20_000, seed=1)
    kept = result.trials.memory_usage(deep=True).sum() + result.salvos.memory_usage().sum()
    estimate = simulation.estimate_memory_bytes(result.scenario, 20_000, keep_trials=True)
    assert kept < estimate < 3 * kept + 200 * 2**20  # above, but not absurdly


def test_a_grid_of_ten_billion_points_is_refused_before_expanding(tmp_path, capsys):
    """A 645-byte sweep file (10 paths x 10 values) once ran 76 s to a MemoryError."""
    grid = {f"effectors.sm2.{field}": list(range(1, 11)) for field in
            ("rounds", "channels", "salvo_size", "max_engagements")}  # fmt: skip
    grid |= {f"threats.drone.{f}": [float(v) for v in range(1, 11)] for f in
             ("unit_cost_usd", "speed_mps", "detect_range_km", "start_s", "window_s",
              "kill_fluence_j_cm2")}  # fmt: skip
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"grid: 10,000,000,000 points \(10 x 10 x"):
        costx.sweep(mixed(), grid, trials=100)
    (tmp_path / "s.toml").write_text(tomli_w.dumps(mixed()))
    spec = tmp_path / "big.toml"
    spec.write_text(tomli_w.dumps({"sweep": {"scenario": "s.toml"}, "grid": grid}))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "10,000,000,000 points" in err[0] and "[[cases]]" in err[0]
    assert time.perf_counter() - started < 10
    assert not (tmp_path / "out").exists()


def test_a_sweep_keeping_too_many_trials_is_refused(eight_gb, monkeypatch):
    _no_kernel(monkeypatch)
    grid = {"effectors.sm2.rounds": list(range(1, 101))}
    with pytest.raises(InputError, match=r"a sweep of 100 points x 10,000,000 trials need about"):
        costx.sweep(mixed(), grid, trials=10_000_000, keep_trials=True)


# -- files that are not scenario files -------------------------------------------------


def test_a_device_or_huge_file_is_refused_unread(tmp_path, capsys):
    """A symbolic link to /dev/zero once read 7.6 GB before a MemoryError."""
    zero = tmp_path / "zero.toml"
    zero.symlink_to(os.devnull if not os.path.exists("/dev/zero") else "/dev/zero")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # opening it would block until a writer comes
    for path in (zero, fifo, tmp_path):
        with pytest.raises(ScenarioError, match="cannot read: not a regular file"):
            costx.load_scenario(path)
    assert main(["validate", str(zero)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ScenarioError, match=r"cannot read: 16,777,217 bytes, at most 16,777,216"):
        costx.load_scenario(huge)
    link = tmp_path / "link.toml"
    real = tmp_path / "real.toml"
    real.write_text(tomli_w.dumps(mixed()))
    link.symlink_to(real)
    assert costx.load_scenario(link).name == "mixed"  # a link to a file is fine


# -- numbers: conservation and finiteness ---------------------------------------------------


def test_a_broken_conservation_is_an_internal_error_naming_the_scenario(monkeypatch, capsys):
    real = simulation.simulate_trials

    def lose_a_kill(*args):
        real(*args)
        kills = args[-7]  # before avail, rounds_end and the graph's mode, graph, trace, missed
        i, s, e = np.argwhere(kills > 0)[0]
        kills[i, s, e] -= 1  # a threat neither killed nor leaked

    monkeypatch.setattr(simulation, "simulate_trials", lose_a_kill)
    with pytest.raises(InternalError, match=r"internal error: <mapping> \(mixed\): trial \d+"):
        costx.simulate(mixed(), trials=500, seed=3)
    assert main(["run", "ddg_mixed_raid", "--trials", "200", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bundled:ddg_mixed_raid (ddg_mixed_raid)" in err[0]
    assert "please report" in err[0]


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        pytest.param("threat", "kill_fluence_j_cm2", 1e-9, id="fluence-1e-9"),
        pytest.param("laser", "power_kw", 1e5, id="power-at-bound"),
        pytest.param("threat", "start_s", 1e6, id="start-at-bound"),
    ],
)
def test_extreme_values_the_issue_named_run_with_every_threat_killed_or_leaked(where, field, value):
    """Fluence 1e-9, power 1e12 kW, speed 1e-8 m/s and start 1e12 s once gave kills
    without killed threats; the last three are now refused (bad_scenarios/bounds_*.toml,
    threat_too_slow.toml), and the first and the largest accepted values run clean."""
    data = mixed()
    target = data["threats"][0] if where == "threat" else data["effectors"][2]
    target[field] = value
    result = costx.simulate(data, trials=400, seed=2)
    _check_conserved_and_finite(result)


def _check_conserved_and_finite(result):
    t = result.trials
    kills = sum(t[f"kills_{e.name}"] for e in result.scenario.effectors)
    leaks = sum(t[f"leaked_{g.name}"] for g in result.scenario.threats)
    assert (kills + leaks == result.scenario.launched).all()
    means = result.summary()["mean"].to_numpy(dtype=float)
    assert not np.isinf(means).any()


def _bounds_of(field) -> tuple[float | None, float | None]:
    """The (smallest, largest) value a pydantic field allows, None where it is unbounded."""
    metas = list(field.metadata)
    for arg in getattr(field.annotation, "__args__", ()):
        metas += list(getattr(arg, "__metadata__", ()))
    low = high = None
    for meta in metas:
        for m in getattr(meta, "metadata", [meta]):
            if hasattr(m, "ge"):
                low = m.ge
            elif hasattr(m, "gt"):
                low = math.nextafter(m.gt, math.inf) if isinstance(m.gt, float) else m.gt + 1
            elif hasattr(m, "le"):
                high = m.le
            elif hasattr(m, "lt"):
                high = math.nextafter(m.lt, -math.inf) if isinstance(m.lt, float) else m.lt - 1
    return low, high


def _bounds_cases():
    """Every bounded number of threats and effectors at each end of its range."""
    from costx.scenario import Interceptor, Laser, Railgun, Threat

    cases = []
    for where, model, skip in (
        ("threat", Threat, {"count"}),
        ("interceptor", Interceptor, {"rounds"}),
        ("railgun", Railgun, {"rounds", "barrel_life_rounds"}),
        ("laser", Laser, {"units"}),
    ):
        for name, field in model.model_fields.items():
            if name in skip or field.annotation not in (float, float | None):
                continue
            low, high = _bounds_of(field)
            if low is not None:
                cases.append(pytest.param(where, name, float(low), id=f"{where}.{name}=low"))
            if high is not None:
                cases.append(pytest.param(where, name, float(high), id=f"{where}.{name}=high"))
    return cases


@pytest.mark.parametrize(("where", "field", "value"), _bounds_cases())
@pytest.mark.parametrize("policy", ["layered", "cost_aware"])
def test_every_number_at_the_ends_of_its_range_runs_finite(where, field, value, policy):
    """Each bounded field at its smallest and largest allowed value: refused by a
    cross-field rule (e.g. detection to impact beyond 1e6 s), or run with every threat
    killed or leaked and finite results (NaN only for an undefined ratio)."""
    data = scenario(
        [threat("drone", 6, arrival="uniform", window_s=200.0)],
        [interceptor(pk={"drone": 0.6}), railgun(pk={"drone": 0.3}), laser()],
        policy=policy,
        name="ends",
    )
    target = {"threat": data["threats"][0], "interceptor": data["effectors"][0],
              "railgun": data["effectors"][1], "laser": data["effectors"][2]}[where]  # fmt: skip
    target[field] = value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", costx.CostxWarning)
            result = costx.simulate(data, trials=40, seed=5)
    except ScenarioError as err:
        assert "input should be" not in str(err), str(err)  # only cross-field rules refuse
        return
    _check_conserved_and_finite(result)


def _numeric_kind(field) -> type | None:
    args = (field.annotation, *getattr(field.annotation, "__args__", ()))
    for kind in (float, int):
        if any(a is kind or getattr(a, "__origin__", None) is kind for a in args):
            return kind
        if any(getattr(a, "__args__", (None,))[0] is kind for a in args if a is not None):
            return kind
    return None


def _site_bounds_cases():
    """Every bounded number (decimal or whole) of the base, its assets and warheads, the
    ship, [costing], [campaign] and the effectors' whole-number fields, at each end."""
    from costx.scenario import (
        Asset,
        Base,
        Campaign,
        Costing,
        Interceptor,
        Railgun,
        Ship,
        Submunition,
        Unitary,
    )

    cases = []
    for where, model in (("base", Base), ("asset", Asset), ("unitary", Unitary),
                         ("submunition", Submunition), ("ship", Ship), ("costing", Costing),
                         ("campaign", Campaign), ("interceptor", Interceptor),
                         ("railgun", Railgun)):  # fmt: skip
        for name, field in model.model_fields.items():
            kind = _numeric_kind(field)
            if name == "resupply_rounds":  # a table of counts: Count's bounds, as rounds
                continue
            if kind is None or (where in ("interceptor", "railgun") and kind is float):
                continue  # (the decimal fields of effectors are the test above)
            low, high = _bounds_of(field)
            for end, value in (("low", low), ("high", high)):
                if value is not None:
                    value = kind(value)
                    cases.append(pytest.param(where, name, value, id=f"{where}.{name}={end}"))
    return cases


def _site_scenario(where: str) -> tuple[dict, dict]:
    """A small scenario with the table ``where`` names, and that table."""
    shooter = interceptor(pk={"drone": 0.5}, rounds=4, acquisition_usd=1e6)
    gun = railgun(pk={"drone": 0.3}, rounds=6)
    if where in ("ship", "costing"):
        data = scenario([threat("drone", 6)], [shooter, gun], name="ends")
        data["ship"] = {"name": "ddg", "value_usd": 2e9, "hits_to_kill": 2}
        data["costing"] = {"raids_per_year": 12.0}
        return data, data[where]
    warhead = (
        {"kind": "submunition", "footprint_m": 50.0, "cep_m": 20.0, "p_kill_in_footprint": 0.5}
        if where == "submunition"
        else {"kind": "unitary", "p_kill_open": 0.8, "p_kill_sheltered": 0.2, "p_cut_runway": 0.5}
    )
    targets = {"jets": 1.0} if where == "submunition" else {"jets": 1.0, "runway": 1.0}
    data = scenario([threat("drone", 6, targets=targets, warhead=warhead)], [shooter, gun],
                    name="ends")  # fmt: skip
    jets = {"name": "jets", "count": 12, "unit_cost_usd": 8e7,
            "sheltered": where != "submunition", "spacing_m": 60.0}  # fmt: skip
    data["base"] = {"runways": 2, "repair_teams": 1, "repair_h_per_cut": 4.0,
                    "assets": [jets]}  # fmt: skip
    data["campaign"] = {"salvos": 3, "interval_h": 12.0}
    data["costing"] = {"raids_per_year": 12.0}
    table = {"base": data["base"], "asset": data["base"]["assets"][0], "unitary": warhead,
             "submunition": warhead, "campaign": data["campaign"], "interceptor": shooter,
             "railgun": gun}[where]  # fmt: skip
    return data, table


@pytest.mark.parametrize(("where", "field", "value"), _site_bounds_cases())
def test_every_site_cost_and_whole_number_at_its_ends_runs_finite(where, field, value):
    """Issue 17 #6 beyond threats and effectors' decimals: each bounded field of the base,
    its assets and warheads, the ship, [costing], [campaign] and the effectors' whole
    numbers at its smallest and largest allowed value is refused by a cross-field rule
    or runs with every threat killed or leaked and finite results."""
    data, table = _site_scenario(where)
    table[field] = value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", costx.CostxWarning)
            result = costx.simulate(data, trials=20, seed=5)
    except ScenarioError as err:
        assert "input should be" not in str(err), str(err)  # only cross-field rules refuse
        return
    _check_conserved_and_finite(result)
