"""The engagement kernel's bound on event steps (issue 16, item 5): a salvo that takes more
event steps than ``costx.lowering.event_cap`` allows stops and is raised as an
EventCapError naming the trial, the salvo and the bound, never a hang.

A kernel bug that loops cannot be written into a test without changing the kernel, so
the tests force the bound low instead (the private constants EVENT_CAP_BASE and
EVENT_CAP_FACTOR) and check that real raids stay well inside the documented bound.
"""

from __future__ import annotations

import re

import pytest
from scenarios import mixed

import costx
from costx import bench, lowering
from costx.cli import main
from costx.errors import EventCapError, InternalError


@pytest.fixture
def tiny_cap(monkeypatch):
    """A bound of 5 event steps per salvo: far too few for any raid of more than a threat."""
    monkeypatch.setattr(lowering, "EVENT_CAP_BASE", 5)
    monkeypatch.setattr(lowering, "EVENT_CAP_FACTOR", 0)


def test_the_bound_follows_the_documented_formula():
    # single_layer: N = 64 threats, E = 1 interceptor, 96 rounds, 2 engagements per threat:
    # ENG = min(96, 128) = 96, events = 64 (1 + 2) + 4 x 96 = 576.
    arrays = lowering.lower(bench.single_layer())
    assert arrays.max_events.tolist() == [1024 + 16 * 576]
    # A laser engages at most N + units times: drone_raid(8) has a 2-channel
    # interceptor (12 rounds, 2 engagements), a gun (12 rounds, 3) and one laser unit.
    arrays = lowering.lower(bench.drone_raid(8))
    engagements = min(12, 8 * 2) + min(12, 8 * 3) + (8 + 1)
    assert arrays.max_events.tolist() == [1024 + 16 * (8 * (1 + 2 * 3) + 4 * engagements)]


def test_a_salvo_past_the_bound_is_a_clear_error(tiny_cap):
    with pytest.raises(EventCapError) as info:
        costx.simulate(mixed(), trials=300, seed=1)
    message = str(info.value)
    assert isinstance(info.value, InternalError)  # the CLI's exit status 2, one line
    assert "\n" not in message
    assert "(mixed): trial 0, salvo 0" in message
    assert "bound of 5 event steps" in message
    assert "300 trials affected" in message


def test_the_cli_prints_one_line_and_exits_2(tiny_cap, capsys):
    assert main(["run", "ddg_mixed_raid", "--trials", "200", "--no-progress"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, err
    assert "bundled:ddg_mixed_raid (ddg_mixed_raid): trial 0, salvo 0" in err[0]
    assert "event steps" in err[0] and "Traceback" not in captured.err


def test_the_trial_named_is_counted_from_the_run_start(monkeypatch):
    """A kernel call for trials 1000..1063 names a trial of that range, not 0..63."""
    monkeypatch.setattr(lowering, "EVENT_CAP_BASE", 0)
    monkeypatch.setattr(lowering, "EVENT_CAP_FACTOR", 0.2)  # real raids need 0.2-0.45
    plan = costx.simulation.Lowered(costx.load_scenario(bench.single_layer()))
    with pytest.raises(EventCapError, match=r"single_layer\): trial (\d+), salvo 0") as info:
        plan.run(1000, 64, 7)
    trial = int(re.search(r"trial (\d+)", str(info.value)).group(1))
    assert 1000 <= trial < 1064


def test_real_raids_stay_inside_the_bound_without_its_headroom(monkeypatch):
    """The count the bound is built on (EVENT_CAP_FACTOR 1, no base) is already an upper
    bound for every policy and bundled raid tried (measured: they need 0.18 to 0.45 of
    it), so the factor 16 leaves a margin of 35 to 90 times over real raids."""
    monkeypatch.setattr(lowering, "EVENT_CAP_BASE", 0)
    monkeypatch.setattr(lowering, "EVENT_CAP_FACTOR", 1)
    for policy in ("layered", "preferential", "cost_aware"):
        ddg = costx.load_scenario("ddg_mixed_raid").to_dict()
        ddg["scenario"]["policy"] = policy
        costx.simulate(ddg, trials=500, seed=4, keep_trials=False)
        costx.simulate(bench.drone_raid(32, policy), trials=200, seed=4, keep_trials=False)
    costx.simulate(bench.single_layer(), trials=500, seed=4, keep_trials=False)
    costx.simulate("pacific_airbase", trials=200, seed=4, keep_trials=False)
