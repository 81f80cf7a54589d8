"""The damage kernel (costx.kernels.damage) against the plain-Python reference
(tests/refimpl/damage.py), trial by trial.

Both take the same leaker counts and the same keyed draws, so every integer output must
be equal in every trial: ``destroyed[i, s, a]`` (assets of group a destroyed in salvo
s), ``site_destroyed[i, k, a]`` (over the campaign, at site k) and ``closed_min[i, s]``
(minutes the base could not launch aircraft after salvo s), and for a ship
``hits[i, s]`` and ``lost[i, s]``. The kernel is run as costx runs it: on the arrays of
``costx.lowering`` (the reference reads the loaded scenario itself), from a trial offset,
on more than ``TRIALS_PER_TASK`` trials where a scenario allows, so that the offset and
the split into tasks are exercised too.

The leaker counts are drawn here (a fixed numpy generator; some trials with no leaker at
all) rather than taken from the engagement kernel, so every count from 0 to the whole
raid occurs; one test also goes through ``costx.simulate`` with an interceptor, leakers
from the engagement kernel, and compares the kept tables. Times are multiples of a
quarter hour, so closure minutes are exact integers in both and no rounding can differ.

Every scenario also asserts that what it is meant to cover happens (kills, cuts, closure,
multiple kills by one submunition, trials without leakers), so no comparison passes
vacuously.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from refimpl import damage as ref
from scenarios import interceptor, raider, scenario, threat

import costx
from costx.aggregate import RawTrials
from costx.kernels.damage import TRIALS_PER_TASK, damage_trials, ship_trials
from costx.lowering import lower_base, lower_ship, salvo_counts


def _unitary(**kw) -> dict:
    return {"kind": "unitary", **kw}


def _cluster(footprint_m, cep_m, p) -> dict:
    return {
        "kind": "submunition",
        "footprint_m": footprint_m,
        "cep_m": cep_m,
        "p_kill_in_footprint": p,
    }


def _asset(name, count, sheltered=False, spacing_m=None, unit_cost_usd=1.0) -> dict:
    out = {"name": name, "count": count, "unit_cost_usd": unit_cost_usd, "sheltered": sheltered}
    if spacing_m is not None:
        out["spacing_m"] = spacing_m
    return out


def _load(threats, base=None, campaign=None, ship=None, effectors=()):
    data = scenario(threats, list(effectors))
    if base is not None:
        data["base"] = base
    if campaign is not None:
        data["campaign"] = campaign
    if ship is not None:
        data["ship"] = ship
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)  # undefended on purpose
        return costx.load_scenario(data)


def _leakers(scn, n, seed, p_none=0.15) -> np.ndarray:
    """leaked[i, s, g]: uniform over 0 .. count, and no leaker at all in about p_none of
    the trials."""
    counts = salvo_counts(scn)
    rng = np.random.default_rng(seed)
    leaked = rng.integers(0, counts + 1, size=(n, *counts.shape)).astype(np.int32)
    leaked[rng.random(n) < p_none] = 0
    return leaked


def _kernel(scn, seed, trial0, leaked) -> RawTrials:
    n, n_salvos, n_groups = leaked.shape
    base = lower_base(scn)
    ship = lower_ship(scn)
    shape = None if base is None else base.site_assets.shape
    raw = RawTrials.allocate(
        n, n_salvos, n_groups, 0, base_shape=shape, order="C", ship=ship is not None
    )
    raw.leaked[...] = leaked
    if base is not None:
        damage_trials(
            trial0, np.uint64(seed), salvo_counts(scn), raw.leaked, *base.kernel_args(),
            raw.destroyed, raw.site_destroyed, raw.closed_min,
        )  # fmt: skip
    if ship is not None:
        ship_trials(
            trial0, np.uint64(seed), raw.leaked, *ship.kernel_args(), raw.ship_hits, raw.ship_lost
        )
    return raw


def _compare_base(scn, seed, trial0, leaked) -> list[ref.BaseTrial]:
    """Kernel and reference, every output of every trial; returns the reference's trials
    (for the coverage checks)."""
    raw = _kernel(scn, seed, trial0, leaked)
    out = []
    for i in range(leaked.shape[0]):
        want = ref.base_trial(scn, seed, trial0 + i, leaked[i])
        got = (
            raw.destroyed[i].tolist(),
            raw.site_destroyed[i].tolist(),
            raw.closed_min[i].tolist(),
        )
        assert got == (want.destroyed, want.site_destroyed, want.closed_min), (
            f"trial {trial0 + i}, leaked {leaked[i].tolist()}: kernel {got}, reference "
            f"{(want.destroyed, want.site_destroyed, want.closed_min)}"
        )
        out.append(want)
    return out


def _destroyed(trials) -> int:
    return sum(sum(map(sum, t.destroyed)) for t in trials)


# -- unitary warheads ---------------------------------------------------------------------


def test_unitary_warheads_open_and_sheltered_assets_and_the_runway():
    """One site, one salvo: a unitary warhead on open assets (p_kill_open), sheltered ones
    (p_kill_sheltered), a group with fewer slots than leakers (two on one aircraft) and
    the runway (cuts on the runway with the fewest, repaired by one team)."""
    scn = _load(
        [
            threat(
                "srbm",
                8,
                targets={"jet": 2.0, "hardened": 2.0, "tanker": 1.0, "runway": 2.0},
                warhead=_unitary(p_kill_open=0.8, p_kill_sheltered=0.35, p_cut_runway=0.75),
            )
        ],
        {
            "assets": [
                _asset("jet", 6, spacing_m=40.0),
                _asset("hardened", 4, sheltered=True),
                _asset("tanker", 2),
            ],
            "runways": 2,
            "cuts_to_close": 1,
            "repair_h_per_cut": 4.0,
            "repair_teams": 1,
        },
    )
    n = TRIALS_PER_TASK + 44  # two tasks
    trials = _compare_base(scn, 11, 7, _leakers(scn, n, 1))
    per_group = np.array([t.destroyed[0] for t in trials])
    assert (per_group > 0).any(axis=0).all()  # every asset group loses some
    assert (per_group[:, 2] == 2).any()  # both tankers
    assert sum(t.cuts_made for t in trials) > 0
    assert {t.closed_min[0] for t in trials} >= {0, 240, 480}  # 0, 1 and 2 repair rounds


# -- submunitions -------------------------------------------------------------------------


def test_submunitions_footprint_cep_spacing_with_unitary_warheads_in_the_same_salvo():
    """A submunition warhead (footprint 60 m, CEP 40 m) on a row of aircraft 25 m apart
    (several in the footprint), on sheltered aircraft (immune), on trucks without
    spacing (only the aimed one can be covered) and on the runway (no crater), in the
    same salvo as unitary warheads on the same aircraft (kills already made)."""
    scn = _load(
        [
            threat(
                "unitary",
                3,
                targets={"jet": 1.0, "truck": 1.0},
                warhead=_unitary(p_kill_open=0.6),
            ),
            threat(
                "cluster",
                6,
                targets={"jet": 3.0, "shelter": 1.0, "truck": 1.0, "runway": 1.0},
                warhead=_cluster(60.0, 40.0, 0.75),
            ),
        ],
        {
            "assets": [
                _asset("jet", 12, spacing_m=25.0),
                _asset("shelter", 4, sheltered=True, spacing_m=25.0),
                _asset("truck", 5),
            ],
            "runways": 1,
            "repair_h_per_cut": 3.0,
            "repair_teams": 1,
        },
    )
    trials = _compare_base(scn, 12, 0, _leakers(scn, 300, 2))
    assert sum(t.multi_kills for t in trials) > 20  # one footprint, several aircraft
    assert all(t.destroyed[0][1] == 0 for t in trials)  # shelters: immune to submunitions
    assert all(t.closed_min == [0] for t in trials)  # submunitions do not crater
    assert any(t.destroyed[0][2] > 0 for t in trials)


# -- dispersal and p_hit ------------------------------------------------------------------


def test_dispersal_over_three_sites_with_uneven_counts_and_p_hit():
    """Three sites: 7 aircraft split [3, 2, 2], 2 tankers [1, 1, 0] (a leaker aimed at the
    third site's tankers finds none), 5 sheltered [2, 2, 1]; raids of 5 and 4 threats aim
    [2, 2, 1] and [2, 1, 1]; both groups hit with p_hit < 1. One runway a site: the base
    closes only when every site is closed."""
    scn = _load(
        [
            threat(
                "srbm",
                5,
                p_hit=0.7,
                targets={"jet": 1.0, "tanker": 1.0, "runway": 2.0},
                warhead=_unitary(p_kill_open=0.9, p_kill_sheltered=0.5, p_cut_runway=1.0),
            ),
            threat(
                "cluster",
                4,
                p_hit=0.6,
                targets={"jet": 2.0, "hardened": 1.0},
                warhead=_cluster(45.0, 30.0, 0.8),
            ),
        ],
        {
            "assets": [
                _asset("jet", 7, spacing_m=30.0),
                _asset("tanker", 2),
                _asset("hardened", 5, sheltered=True),
            ],
            "runways": 1,
            "cuts_to_close": 1,
            "repair_h_per_cut": 6.0,
            "repair_teams": 1,
            "dispersal_sites": 3,
        },
    )
    assert lower_base(scn).site_assets.tolist() == [[3, 1, 2], [2, 1, 2], [2, 0, 1]]
    leaked = _leakers(scn, 300, 3)
    trials = _compare_base(scn, 13, 100, leaked)
    per_site = np.array([t.site_destroyed for t in trials]).sum(axis=(0, 2))
    assert (per_site > 0).all()
    assert any(t.closed_min[0] > 0 for t in trials)  # all three sites cut at once
    assert any(t.cuts_made > 0 and t.closed_min[0] == 0 for t in trials)  # some site open
    misses = np.array([t.misses for t in trials])
    assert 0.2 < misses.sum() / leaked.sum() < 0.5  # p_hit 0.7 and 0.6: about a third miss


# -- campaigns: repair across salvos ------------------------------------------------------


def _campaign(runways, cuts_to_close, teams, repair_h, interval_h, sites):
    return _load(
        [
            threat(
                "srbm",
                12,
                targets={"runway": 4.0, "jet": 1.0},
                warhead=_unitary(p_kill_open=0.7, p_cut_runway=0.9),
            ),
            threat(
                "cluster",
                4,
                targets={"jet": 1.0, "runway": 1.0},
                warhead=_cluster(50.0, 40.0, 0.7),
            ),
        ],
        {
            "assets": [_asset("jet", 9, spacing_m=30.0, unit_cost_usd=1000.0)],
            "runways": runways,
            "cuts_to_close": cuts_to_close,
            "repair_h_per_cut": repair_h,
            "repair_teams": teams,
            "dispersal_sites": sites,
        },
        {
            "salvos": [
                {"srbm": 9, "cluster": 2},
                {"srbm": 4},
                {"srbm": 12, "cluster": 4},
                {"srbm": 5, "cluster": 3},
            ],
            "interval_h": interval_h,
        },
    )


@pytest.mark.parametrize(
    ("sites", "runways", "cuts_to_close", "teams", "repair_h", "interval_h"),
    [
        # Two teams on three runways, two cuts close, repairs that outlast the interval:
        # which closed runway is closest to reopening (repairs not yet under way) matters.
        (1, 3, 2, 2, 6.0, 2.0),
        # Four cuts close two runways: teams mostly repair open runways (fewest cuts
        # not yet under way first), which decides when later salvos close the base.
        (1, 2, 4, 1, 4.0, 3.0),
        # One team, 4 h a cut, salvos 3 h apart: repairs under way when the next arrives.
        (2, 2, 1, 1, 4.0, 3.0),
        # More teams than runways; the salvo interval a multiple of the repair time, so
        # repairs finish exactly as a salvo arrives.
        (2, 2, 1, 3, 2.0, 4.0),
        # Two cuts close, one team a site.
        (2, 2, 2, 1, 1.5, 2.0),
        # No repair teams: a closed base stays closed to the end of the campaign.
        (2, 2, 2, 0, 4.0, 6.0),
        # Instant repair.
        (2, 1, 1, 1, 0.0, 2.0),
    ],
)
def test_repair_and_runway_closure_across_a_campaign(
    sites, runways, cuts_to_close, teams, repair_h, interval_h
):
    """Four salvos of uneven raids (per-salvo counts, some groups absent from a salvo)
    on two sites: cuts pile up on runways being repaired, repair teams pick the runway
    closest to reopening, repair goes on between salvos, and destroyed aircraft stay
    destroyed."""
    scn = _campaign(runways, cuts_to_close, teams, repair_h, interval_h, sites)
    trials = _compare_base(scn, 14, 3, _leakers(scn, 200, 4))
    closed = np.array([t.closed_min for t in trials])
    assert (closed.sum(axis=1) == 0).any()
    if repair_h > 0:
        assert (closed[:, :3] > 0).any()  # closed between salvos, not just after the last
        assert (closed[:, 3] > 0).any()
    assert _destroyed(trials) > 0
    if teams == 0:
        assert (closed.sum(axis=1) == round(4 * interval_h * 60)).any()  # closed to the end


def test_no_leakers_no_damage_in_both():
    scn = _campaign(3, 2, 2, 2.5, 5.0, 2)
    leaked = np.zeros((50, *salvo_counts(scn).shape), np.int32)
    trials = _compare_base(scn, 15, 0, leaked)
    assert all(t.closed_min == [0] * 4 and _destroyed([t]) == 0 for t in trials)


# -- the ship -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ship",
    [
        {"hits_to_kill": 2},
        {"hits_to_kill": 4},
        {"p_kill_per_hit": 0.4},
        {"p_kill_per_hit": 1.0},
        {"p_kill_per_hit": 0.0},
    ],
)
def test_ship_hits_and_loss_next_to_a_base(ship):
    """Groups without ``targets`` aim at the ship (hit with p_hit, lost at the n-th hit of
    the campaign or with p_kill_per_hit at each hit), a group with targets at the base,
    each taking its own leakers, over three salvos."""
    scn = _load(
        [
            threat("asm", 3, p_hit=0.7),
            threat(
                "srbm",
                4,
                targets={"jet": 1.0, "runway": 1.0},
                warhead=_unitary(p_kill_open=0.8, p_cut_runway=0.8),
            ),
            threat("drone", 2),
        ],
        {
            "assets": [_asset("jet", 4)],
            "runways": 1,
            "repair_h_per_cut": 4.0,
            "repair_teams": 1,
        },
        {"salvos": 3, "interval_h": 6.0},
        {"name": "ddg", "value_usd": 1e9, **ship},
    )
    seed, trial0 = 16, 9
    leaked = _leakers(scn, 300, 5)
    raw = _kernel(scn, seed, trial0, leaked)
    lost_salvos = []
    for i in range(leaked.shape[0]):
        want = ref.ship_trial(scn, seed, trial0 + i, leaked[i])
        got = (raw.ship_hits[i].tolist(), raw.ship_lost[i].tolist())
        assert got == (want.hits, want.lost), (trial0 + i, leaked[i].tolist(), got, want)
        lost_salvos.append(sum(want.lost))
    assert max(lost_salvos) <= 1  # lost once at most
    if ship.get("p_kill_per_hit") == 0.0:
        assert max(lost_salvos) == 0
    else:
        assert 0 < np.mean(lost_salvos) < 1
    assert _destroyed(_compare_base(scn, seed, trial0, leaked)) > 0


# -- through costx.simulate ---------------------------------------------------------------


def test_simulate_tables_equal_the_reference_fed_the_engagement_leakers():
    """End to end: an interceptor defends a dispersed base and a ship over three salvos;
    the leakers come from the engagement kernel (the kept per-salvo table) and the kept
    damage, per-site damage, closure and ship columns must equal the reference's."""
    scn = _load(
        [
            raider(
                "srbm",
                6,
                targets={"jet": 2.0, "tanker": 1.0, "runway": 2.0},
                warhead=_unitary(p_kill_open=0.9, p_kill_sheltered=0.3, p_cut_runway=0.8),
            ),
            raider(
                "cluster",
                3,
                p_hit=0.8,
                targets={"jet": 1.0},
                warhead=_cluster(80.0, 50.0, 0.8),
            ),
            threat("asm", 2, speed_mps=300.0, detect_range_km=40.0, p_hit=0.9),
        ],
        {
            "assets": [
                _asset("jet", 10, spacing_m=40.0, unit_cost_usd=1000.0),
                _asset("tanker", 3, unit_cost_usd=1.0),
            ],
            "runways": 2,
            "cuts_to_close": 1,
            "repair_h_per_cut": 4.0,
            "repair_teams": 1,
            "dispersal_sites": 2,
        },
        {"salvos": 3, "interval_h": 6.0},
        {"name": "ddg", "value_usd": 1e9, "hits_to_kill": 2},
        [
            interceptor(
                "pac3",
                pk={"srbm": 0.5, "cluster": 0.5, "asm": 0.5},
                rounds=30,
                speed_mps=1500.0,
                max_range_km=70.0,
                min_range_km=1.0,
                channels=4,
                salvo_size=1,
                max_engagements=1,
            )
        ],
    )
    n, seed = 200, 17
    result = costx.simulate(scn, trials=n, seed=seed)
    salvos = result.salvos.sort_values(["trial", "salvo"])
    names = [t.name for t in scn.threats]
    leaked = salvos[[f"leaked_{g}" for g in names]].to_numpy(np.int32).reshape(n, 3, 3)
    assert 0 < leaked.sum() < 9 * 3 * n  # some leak, not all
    unit = np.array([1000.0, 1.0])
    frame = result.trials
    for i in range(n):
        want = ref.base_trial(scn, seed, i, leaked[i])
        rows = salvos[salvos["trial"] == frame["trial"].iloc[i]]
        assert rows["destroyed_jet"].tolist() == [d[0] for d in want.destroyed]
        assert rows["destroyed_tanker"].tolist() == [d[1] for d in want.destroyed]
        assert [round(h * 60) for h in rows["runway_closed_h"]] == want.closed_min
        for k in range(2):
            assert frame[f"damage_site{k}_usd"].iloc[i] == np.dot(want.site_destroyed[k], unit)
        ship = ref.ship_trial(scn, seed, i, leaked[i])
        assert rows["ship_hits"].tolist() == ship.hits
        assert rows["ship_lost"].astype(int).tolist() == ship.lost
