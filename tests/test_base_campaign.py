"""The defended base and campaigns: damage, runway closure, dispersal, magazines.

References: the circular-normal closed form 1 - 2^-(R/CEP)^2 (validation.md V5), a KS
test of the impact-point draws, hand-computed repair timelines, and exact bookkeeping
of magazines across salvos.
"""

import math
import warnings

import numpy as np
import pytest
from kernel_helpers import impact_offsets
from scenarios import interceptor, raider, scenario, threat
from scipy import stats

import costx
from costx.lowering import lower_base

SE5 = 5.0  # tolerance in standard errors for fixed-seed Monte Carlo checks


def _undefended(threats, base, campaign=None) -> dict:
    """No effector at all: every threat leaks (the warning says so)."""
    data = scenario(threats, [])
    data["base"] = base
    if campaign is not None:
        data["campaign"] = campaign
    return data


def _run(data, trials, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)  # undefended on purpose
        return costx.simulate(data, trials=trials, seed=seed)


def test_impact_draws_are_a_circular_normal_with_the_given_cep():
    n = 200_000
    radius, angle = np.empty(n), np.empty(n)
    impact_offsets(np.uint64(3), n, 50.0, radius, angle)
    sigma = 50.0 / 1.1774
    # KS tests, fixed seed: the statistic must not be significant at the 0.1 % level.
    assert stats.kstest(radius, stats.rayleigh(scale=sigma).cdf).pvalue > 1e-3
    assert stats.kstest(angle, stats.uniform(loc=0.0, scale=2 * math.pi).cdf).pvalue > 1e-3
    # Half the impacts fall within one CEP (the definition of CEP) ...
    p = np.mean(radius <= 50.0)
    assert abs(p - 0.5) < SE5 * math.sqrt(0.25 / n)
    # ... and the 137.16 m footprint covers the aim point with 1 - 2^-(137.16/50)^2 = 0.9946.
    closed_form = 1 - 2 ** (-((137.16 / 50.0) ** 2))
    assert closed_form == pytest.approx(0.9946, abs=5e-5)
    covered = np.mean(radius <= 137.16)
    assert abs(covered - closed_form) < SE5 * math.sqrt(closed_form * (1 - closed_form) / n)
    # Directions really are radians over the full circle (degrees would stop at 6.28 too,
    # but a degree draw would put ~98 % of the mass above 2 pi): quadrants equally likely.
    quadrants = np.bincount((angle // (math.pi / 2)).astype(int), minlength=4) / n
    assert np.all(np.abs(quadrants - 0.25) < SE5 * math.sqrt(0.25 * 0.75 / n))


@pytest.mark.parametrize(("p_kill", "expected"), [(1.0, 0.9946), (0.9, 0.895)])
def test_submunition_kills_a_parked_aircraft_at_the_closed_form_rate(p_kill, expected):
    """One submunition missile at one unsheltered aircraft (V5: CEP 50 m, 137.16 m)."""
    data = _undefended(
        [
            threat(
                "srbm",
                1,
                targets={"jet": 1.0},
                warhead={
                    "kind": "submunition",
                    "footprint_m": 137.16,
                    "cep_m": 50.0,
                    "p_kill_in_footprint": p_kill,
                },
            )
        ],
        {"assets": [{"name": "jet", "count": 1, "unit_cost_usd": 80e6}]},
    )
    n = 100_000
    destroyed = _run(data, n, seed=8).trials["destroyed_jet"].to_numpy(float)
    p = p_kill * (1 - 2 ** (-((137.16 / 50.0) ** 2)))
    assert p == pytest.approx(expected, abs=5e-4)
    assert abs(destroyed.mean() - p) < SE5 * math.sqrt(p * (1 - p) / n)


def _airbase(
    sheltered=False,
    teams=2,
    sites=1,
    salvos=1,
    resupply=0,
    rounds=30,
    pk=0.5,
    salvo_size=2,
    max_engagements=1,
):
    data = scenario(
        [
            raider(
                "srbm",
                10,
                targets={"jet": 2.0, "tanker": 1.0, "runway": 2.0},
                warhead={
                    "kind": "unitary",
                    "p_kill_open": 0.9,
                    "p_kill_sheltered": 0.3,
                    "p_cut_runway": 0.8,
                },
            ),
            raider(
                "cluster",
                4,
                targets={"jet": 1.0},
                warhead={
                    "kind": "submunition",
                    "footprint_m": 100.0,
                    "cep_m": 60.0,
                    "p_kill_in_footprint": 0.8,
                },
            ),
        ],
        [
            interceptor(
                "pac3",
                pk={"srbm": pk, "cluster": pk},
                rounds=rounds,
                speed_mps=1500.0,
                max_range_km=70.0,
                min_range_km=1.0,
                channels=4,
                salvo_size=salvo_size,
                max_engagements=max_engagements,
            )
        ],
    )
    data["base"] = {
        "assets": [
            {"name": "jet", "count": 24, "unit_cost_usd": 80e6, "sheltered": sheltered,
             "spacing_m": 50.0},
            {"name": "tanker", "count": 4, "unit_cost_usd": 160e6},
        ],
        "runways": 2,
        "cuts_to_close": 1,
        "repair_h_per_cut": 4.0,
        "repair_teams": teams,
        "dispersal_sites": sites,
    }  # fmt: skip
    if salvos > 1 or resupply:
        data["campaign"] = {
            "salvos": salvos,
            "interval_h": 24.0,
            "resupply_rounds": {"pac3": resupply},
        }
    return data


def test_no_leakers_no_damage():
    frame = _run(_airbase(pk=0.9), 4000, seed=1).trials
    clean = frame["leaked"] == 0
    assert clean.sum() > 100 and (~clean).sum() > 100  # both cases occur
    assert (frame.loc[clean, "damage_usd"] == 0).all()
    assert (frame.loc[clean, "runway_closed_h"] == 0).all()
    assert (frame["total_cost_usd"] == frame["defense_cost_usd"] + frame["damage_usd"]).all()


def test_sheltering_never_raises_damage():
    """Common random numbers: with p_kill_sheltered <= p_kill_open and submunitions unable
    to reach sheltered assets, the set of destroyed assets can only shrink, trial by trial."""
    open_ = _run(_airbase(sheltered=False), 3000, seed=2).trials
    shut = _run(_airbase(sheltered=True), 3000, seed=2).trials
    assert (shut["destroyed_jet"] <= open_["destroyed_jet"]).all()
    assert shut["destroyed_jet"].mean() < 0.8 * open_["destroyed_jet"].mean()
    assert (shut["leaked"] == open_["leaked"]).all()


def test_more_repair_teams_never_lengthen_closure():
    few = _run(_airbase(teams=1, salvos=3), 3000, seed=3).trials["runway_closed_h"].to_numpy()
    many = _run(_airbase(teams=3, salvos=3), 3000, seed=3).trials["runway_closed_h"].to_numpy()
    assert few.mean() > 0
    diff = many - few
    se = diff.std(ddof=1) / math.sqrt(len(diff))
    assert diff.mean() <= SE5 * se + 1e-12
    assert many.mean() < few.mean()


def _runway_only(cuts_per_salvo, salvos, interval_h, runways, cuts_to_close, teams, hours):
    """Every leaker cuts a runway (p_cut_runway = 1, no defense): a deterministic timeline."""
    data = _undefended(
        [
            threat(
                "srbm",
                cuts_per_salvo,
                targets={"runway": 1.0},
                warhead={"kind": "unitary", "p_cut_runway": 1.0},
            )
        ],
        {
            "runways": runways,
            "cuts_to_close": cuts_to_close,
            "repair_h_per_cut": hours,
            "repair_teams": teams,
        },
        {"salvos": salvos, "interval_h": interval_h} if salvos > 1 else None,
    )
    return _run(data, 50, seed=0)


@pytest.mark.parametrize(
    ("cuts", "runways", "cuts_to_close", "teams", "expected_h"),
    [
        # 3 cuts on 2 runways -> [2, 1]; one team reopens runway 1 after one repair: 4 h.
        (3, 2, 1, 1, 4.0),
        # [2, 1] with 2 cuts to close: runway 1 stays usable: never closed.
        (3, 2, 2, 1, 0.0),
        # 4 cuts -> [2, 2]; one team needs two repairs on one runway: 8 h; two teams: 4 h.
        (4, 2, 1, 1, 8.0),
        (4, 2, 1, 2, 4.0),
        # One runway, 5 cuts, 2 cuts to close: 4 repairs by 3 teams = 2 rounds: 8 h.
        (5, 1, 2, 3, 8.0),
    ],
)
def test_runway_closure_matches_hand_computed_timelines(
    cuts, runways, cuts_to_close, teams, expected_h
):
    frame = _runway_only(cuts, 1, 24.0, runways, cuts_to_close, teams, 4.0).trials
    assert (frame["runway_closed_h"] == expected_h).all()


def test_repair_continues_between_salvos():
    """Two runways, 1 cut closes, one team, 4 h per cut, salvos 3 h apart, 2 cuts each.

    t=0: cuts [1, 1], closed; the team starts on runway 0 (ties: lower index).
    t=3: closed for 3 h so far; 2 more cuts on the runways with fewest cuts: [2, 2].
    t=4: runway 0 down to 1 cut, still closed; the team starts on runway 0 again.
    t=8: runway 0 has no cut: open. Closure 3 h after salvo 1 and 5 h after salvo 2.
    """
    result = _runway_only(2, 2, 3.0, 2, 1, 1, 4.0)
    salvos = result.salvos
    assert (salvos.loc[salvos["salvo"] == 1, "runway_closed_h"] == 3.0).all()
    assert (salvos.loc[salvos["salvo"] == 2, "runway_closed_h"] == 5.0).all()
    assert (result.trials["runway_closed_h"] == 8.0).all()


def test_without_repair_teams_closure_lasts_to_the_end_of_the_campaign():
    frame = _runway_only(2, 2, 12.0, 1, 1, 0, 4.0).trials
    assert (frame["runway_closed_h"] == 24.0).all()


def test_dispersal_splits_assets_and_raid_and_reports_damage_per_site():
    frame = _run(_airbase(sites=3), 3000, seed=4).trials
    sites = [frame[f"damage_site{k}_usd"] for k in range(3)]
    np.testing.assert_allclose(sum(sites), frame["damage_usd"])
    means = [s.mean() for s in sites]
    assert min(means) > 0.5 * max(means)  # an even split: no site is spared
    assert (frame["destroyed_jet"] <= 24).all() and (frame["destroyed_tanker"] <= 4).all()
    # Assets: count // sites at each site, the remainder one each to the first sites.
    # 24 jets and 4 tankers on 3 sites: [8, 8, 8] and [2, 1, 1]; 25 jets: [9, 8, 8].
    split = lower_base(costx.load_scenario(_airbase(sites=3))).site_assets
    assert split.tolist() == [[8, 2], [8, 1], [8, 1]]
    data = _airbase(sites=3)
    data["base"]["assets"][0]["count"] = 25
    data["base"]["dispersal_sites"] = 2
    assert lower_base(costx.load_scenario(data)).site_assets.tolist() == [[13, 2], [12, 2]]
    data["base"]["dispersal_sites"] = 3
    assert lower_base(costx.load_scenario(data)).site_assets.tolist() == [[9, 2], [8, 1], [8, 1]]


def test_dispersal_aims_the_raid_at_the_sites_in_turn():
    """Threat j of a group aims at site j % sites: 10 threats on 3 sites aim [4, 3, 3]
    (the remainder at the first sites), and the leakers are a draw without replacement
    from those aims, so each leaker lands at site k with probability 4/10, 3/10, 3/10.

    Seen through the damage per site: every leaker destroys the jet it aims at (unitary,
    p_kill_open 1) among 10,000 jets a site (10,001 at site 0), so two leakers at one site
    aim at the same jet with probability at most C(4, 2) / 10,000 per trial: the share of
    the damage at site k is the share of the leakers there to within ~1e-4, far below the
    tolerance. Tolerance: 5 standard errors of the ratio estimator sum(X_k) / sum(T),
    se = sd(X_k - share_k T) / (sqrt(n) mean(T)) (delta method; fixed seed). Aiming the
    remainder at the last site instead would move site 0 to 3/10 and site 2 to 4/10,
    over 40 standard errors off (se is about 0.0023 here)."""
    data = scenario(
        [
            raider("srbm", 10, targets={"jet": 1.0},
                   warhead={"kind": "unitary", "p_kill_open": 1.0}),
        ],
        [
            interceptor("pac3", pk={"srbm": 0.5}, rounds=100, speed_mps=1500.0,
                        max_range_km=70.0, min_range_km=1.0, channels=4, salvo_size=1,
                        max_engagements=1),
        ],
    )  # fmt: skip
    data["base"] = {
        "assets": [{"name": "jet", "count": 30_001, "unit_cost_usd": 1.0}],
        "dispersal_sites": 3,
    }
    assert lower_base(costx.load_scenario(data)).site_assets[:, 0].tolist() == [
        10_001, 10_000, 10_000,
    ]  # fmt: skip
    n = 4000
    frame = _run(data, n, seed=4).trials
    destroyed = np.stack([frame[f"damage_site{k}_usd"].to_numpy() for k in range(3)], axis=1)
    total = destroyed.sum(axis=1)
    assert 0.99 < (total == frame["leaked"]).mean()  # next to no two leakers share a jet
    assert 0 < frame["leaked"].mean() < 10  # the leakers are a random subset of the raid
    for k, aimed in enumerate([4, 3, 3]):
        expected = aimed / 10
        share = destroyed[:, k].sum() / total.sum()
        se = np.std(destroyed[:, k] - share * total, ddof=1) / (math.sqrt(n) * total.mean())
        assert abs(share - expected) < SE5 * se, (k, share, expected, se)


def test_campaign_magazine_bookkeeping_is_exact():
    no_resupply = _run(_airbase(salvos=4, rounds=40), 1000, seed=5)
    s = no_resupply.salvos
    for _, rows in s.groupby("trial"):
        left = 40 - rows["shots_pac3"].cumsum().to_numpy()
        np.testing.assert_array_equal(rows["rounds_left_pac3"].to_numpy(), left)
    totals = s.groupby("trial")["shots_pac3"].sum().to_numpy()
    np.testing.assert_array_equal(totals, no_resupply.trials["shots_pac3"].to_numpy())
    assert (no_resupply.trials["shots_pac3"] <= 40).all()

    topped = _run(_airbase(salvos=4, rounds=40, resupply=16), 1000, seed=5).salvos
    assert (topped["rounds_left_pac3"] <= 40).all()
    for _, rows in topped.groupby("trial"):
        start = 40
        for shots, left in zip(rows["shots_pac3"], rows["rounds_left_pac3"], strict=True):
            assert left == start - shots
            start = min(40, left + 16)
    assert topped["shots_pac3"].sum() > s["shots_pac3"].sum()


def test_resupply_beyond_use_tops_the_magazine_up_to_its_size_only():
    """Resupply far above what a salvo uses: every salvo starts with exactly the initial
    magazine (``min(rounds, left + resupply)``), never with the surplus. With a resupply
    below use (the test above) the cap is never reached, so only this test sees it."""
    result = _run(_airbase(salvos=4, rounds=6, resupply=500, pk=0.3), 400, seed=8)
    s = result.salvos
    assert (s["rounds_left_pac3"] == 6 - s["shots_pac3"]).all()  # each salvo starts full
    assert s["shots_pac3"].max() == 6  # some salvo uses the whole magazine, not more
    assert (s.groupby("trial")["shots_pac3"].sum() <= 4 * 6).all()


def _first_salvo(event: np.ndarray) -> np.ndarray:
    """Per trial (row): the 1-based first salvo where ``event`` holds, 0 when it never does
    (a plain loop, independent of the vectorized code under test)."""
    out = np.zeros(event.shape[0], np.int64)
    for i, row in enumerate(event):
        for s, happened in enumerate(row):
            if happened:
                out[i] = s + 1
                break
    return out


def test_salvos_survived_and_magazine_exhaustion_measures():
    """The per-trial campaign measures, rebuilt trial by trial from the per-salvo table.

    Shoot-look-shoot (one round, then a second at a survivor) uses about 16.5 rounds a
    salvo from a 20-round magazine topped up by 16 a salvo: in some trials the magazine
    never runs dry, in others it does, and in some it runs dry, is refilled and ends the
    campaign with rounds left (first dry salvo != dry at the end). pk 0.8 spreads the
    first leak over every salvo, with some trials that never leak."""
    salvos_n = 5
    data = _airbase(salvos=salvos_n, rounds=20, resupply=16, pk=0.8, salvo_size=1,
                    max_engagements=2)  # fmt: skip
    result = _run(data, 2000, seed=6)
    frame, salvos, summary = result.trials, result.salvos, result.summary()
    n = len(frame)
    assert len(salvos) == n * salvos_n
    trial = salvos["trial"].to_numpy().reshape(n, salvos_n)
    assert (trial == frame["trial"].to_numpy()[:, None]).all()  # trial-major, same order
    assert (salvos["salvo"].to_numpy().reshape(n, salvos_n) == np.arange(1, salvos_n + 1)).all()
    leaked = (salvos["leaked_srbm"] + salvos["leaked_cluster"]).to_numpy().reshape(n, salvos_n)
    dry = (salvos["rounds_left_pac3"] == 0).to_numpy().reshape(n, salvos_n)
    # The scenario covers every case the measures distinguish.
    first_leak, first_dry = _first_salvo(leaked > 0), _first_salvo(dry)
    assert set(first_leak) == set(range(salvos_n + 1))  # 0: never leaked
    assert ((leaked > 0).sum(axis=1) > 1).any()  # the last leak is not the first
    assert 0.2 < dry[:, -1].mean() < 0.8  # 0 < p_dry < 1
    assert (~dry.any(axis=1)).any()  # never dry
    assert (dry.any(axis=1) & ~dry[:, -1]).any()  # dry, refilled, not dry at the end
    # Trial by trial.
    got = frame["first_leak_salvo"].fillna(0).to_numpy(np.int64)
    np.testing.assert_array_equal(got, first_leak)
    before = np.where(first_leak > 0, first_leak - 1, salvos_n)
    np.testing.assert_array_equal(frame["salvos_before_first_leak"].to_numpy(), before)
    got = frame["dry_salvo_pac3"].fillna(0).to_numpy(np.int64)
    np.testing.assert_array_equal(got, first_dry)
    before_dry = np.where(first_dry > 0, first_dry - 1, salvos_n)
    np.testing.assert_array_equal(frame["salvos_before_dry_pac3"].to_numpy(), before_dry)
    # The summary: means of the same per-trial values; p_dry is dry at the campaign's end.
    assert summary.loc["salvos_before_first_leak", "mean"] == pytest.approx(before.mean())
    assert summary.loc["salvos_before_dry_pac3", "mean"] == pytest.approx(before_dry.mean())
    assert summary.loc["p_dry_pac3", "mean"] == pytest.approx(dry[:, -1].mean())
    total_cer = summary.loc["cost_exchange_total_over_attack", "mean"]
    attack = salvos_n * 14 * 30_000.0
    assert total_cer == pytest.approx(frame["total_cost_usd"].mean() / attack)


@pytest.mark.parametrize("salvos", [1, 3])
def test_kept_tables_share_no_memory(salvos):
    """The tables take the kernel's output without copying it; no two of them may share a
    column (a one-salvo campaign once did: editing result.trials changed result.salvos)."""
    data = _airbase(salvos=salvos)
    data["campaign"] = {"salvos": salvos, "interval_h": 24.0}  # a campaign, also of one salvo
    result = _run(data, 200, seed=1)
    frames = {"trials": result.trials, "salvos": result.salvos}
    columns = [(f"{k}.{c}", f[c].to_numpy()) for k, f in frames.items() for c in f.columns]
    for i, (name_a, a) in enumerate(columns):
        for name_b, b in columns[i + 1 :]:
            assert not np.shares_memory(a, b), (name_a, name_b)
    before = result.salvos["shots_pac3"].copy()
    result.trials.loc[0, "shots_pac3"] = 12345
    assert result.salvos["shots_pac3"].equals(before)
