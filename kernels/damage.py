"""Damage to the defended base from leakers, runway closure and repair, across salvos.

Inputs are the per-trial, per-salvo leaker counts of the engagement kernel and the base
arrays built by ``costx.lowering``; outputs are per-trial integer arrays. The rules
(docs/model.md, "The defended base"):

* Dispersal: assets of each group are split evenly over the sites (site k gets
  ``count // sites`` plus one if ``k < count % sites``); the attacker aims threat j of a
  group at site ``j % sites``. Which threats of a group leak is taken to be unrelated to
  their aim site, so the leakers of a group are a uniform random subset of its threats
  (sites drawn without replacement).
* A leaker hits what it aims at with its group's ``p_hit`` (reliability and accuracy); one
  that misses does nothing. With ``p_hit = 1`` no draw is made, so results are those of
  a model without it.
* A leaker picks its target from its group's ``targets`` weights (asset groups and the
  runway).
* Unitary warhead against an asset group: aims at one of the group's parking slots at its
  site, chosen uniformly; if that asset still exists it is destroyed with
  ``p_kill_sheltered`` or ``p_kill_open``. Against the runway: one cut (crater) with
  ``p_cut_runway`` on the site's runway with the fewest cuts (ties: lower index).
* Submunition warhead: aims at a slot chosen uniformly; the impact point misses it by a
  circular normal error (angle uniform in [0, 2 pi) radians, radius Rayleigh with
  sigma = CEP / sqrt(2 ln 2) = CEP / 1.1774); every unsheltered asset of that group at
  that site within ``footprint_m`` of the impact point is destroyed with
  ``p_kill_in_footprint``. Assets of a group are parked in a row ``spacing_m`` apart
  (without spacing, only the aimed slot can be covered).
* Runways: a runway is closed while it has at least ``cuts_to_close`` unrepaired cuts; a
  site can launch aircraft while one of its runways is open; the base cannot launch while
  no site can. Each site has ``repair_teams`` teams; a team repairs one cut in
  ``repair_h_per_cut`` hours, always on the runway closest to reopening (fewest cuts,
  ties: lower index). Salvo s arrives at ``s * interval_h`` hours; repair goes on between
  salvos; destroyed assets stay destroyed.
"""

import math

import numpy as np
from numba import prange

from costx.kernels._jit import jit, pjit
from costx.kernels.rng import DAMAGE, event_counter, salvo_key, trial_key, uniform

# warhead_kind per threat group; 0 (lowering's zero fill) is a threat without a warhead.
WARHEAD_UNITARY = 1
WARHEAD_SUBMUNITION = 2

# Columns of warhead_f (float64, one row per threat group).
WF_P_OPEN = 0
WF_P_SHELTERED = 1
WF_P_CUT = 2
WF_FOOTPRINT_M = 3
WF_CEP_M = 4
WF_P_FOOTPRINT = 5
WF_COLUMNS = 6

# Draw purposes within DAMAGE (the counter's "effector" byte).
_SITE = 0
_TARGET = 1
_AIM = 2
_KILL = 3
_RADIUS = 4
_ANGLE = 5
_CUT = 6
_FOOTPRINT = 7  # one draw per covered asset: slot >> 8 and slot & 255 in the counter
# (16 bits: the scenario model caps a group at scenario.MAX_ASSETS = 65,535 assets)
_HIT = 8  # does the leaker hit what it aims at (p_hit); no draw when p_hit = 1
_SHIP_KILL = 9  # does this hit put the ship out of action (p_kill_per_hit)

RAYLEIGH_PER_CEP = 1.0 / math.sqrt(2.0 * math.log(2.0))  # sigma = CEP / 1.1774
MINUTES_PER_HOUR = 60.0
TRIALS_PER_TASK = 256


@jit(borrow=True)
def impact_offset(key, group, leaker, cep_m):
    """Miss distance (m) and direction (rad) of one submunition leaker's impact point.

    ``key`` is the salvo's key; the radius is Rayleigh with sigma = CEP / 1.1774 (inverse
    CDF), the angle uniform in [0, 2 pi) radians.
    """
    sigma = cep_m * RAYLEIGH_PER_CEP
    u1 = uniform(key, event_counter(DAMAGE, _RADIUS, 0, 0, group, leaker))
    u2 = uniform(key, event_counter(DAMAGE, _ANGLE, 0, 0, group, leaker))
    radius = sigma * math.sqrt(-2.0 * math.log1p(-u1))
    angle = 2.0 * math.pi * u2
    return radius, angle


@jit(borrow=True)
def _site_open(cuts, site, n_runways, cuts_to_close):
    for r in range(n_runways):
        if cuts[site, r] < cuts_to_close:
            return True
    return False


@jit(borrow=True)
def _base_can_launch(cuts, n_sites, n_runways, cuts_to_close):
    if n_runways == 0:
        return True
    for site in range(n_sites):
        if _site_open(cuts, site, n_runways, cuts_to_close):
            return True
    return False


@jit(borrow=True)
def _assign_teams(
    cuts, working, team_done, team_runway, site, t, n_runways, teams, repair_h, cuts_to_close
):  # fmt: skip
    """Give each idle team of a site one cut, on the runway closest to reopening.

    Closest to reopening: the fewest repairs still unassigned before it has fewer than
    ``cuts_to_close`` cuts (ties: lower index); runways already open come last (their
    cuts are repaired too, to be ready for the next salvo).
    """
    for k in range(teams):
        if team_done[site, k] != math.inf:
            continue
        best = -1
        best_key = 0
        for r in range(n_runways):
            remaining = cuts[site, r] - working[site, r]
            if remaining <= 0:
                continue
            need = remaining - (cuts_to_close - 1)
            key = need if need > 0 else 1_000_000_000 + remaining
            if best < 0 or key < best_key:
                best = r
                best_key = key
        if best < 0:
            return
        working[site, best] += 1
        team_runway[site, k] = best
        team_done[site, k] = t + repair_h


@jit(borrow=True)
def _advance_repairs(
    cuts, working, team_done, team_runway, t_from, t_to, n_sites, n_runways, teams, repair_h,
    cuts_to_close,
):  # fmt: skip
    """Repair from t_from to t_to (hours); return the hours in between the base was closed.

    With t_to = inf, repair runs until the base can launch again (or nothing is left to
    repair).
    """
    closed = 0.0
    t = t_from
    while True:
        can = _base_can_launch(cuts, n_sites, n_runways, cuts_to_close)
        if can and t_to == math.inf:
            return closed
        t_next = math.inf
        for site in range(n_sites):
            for k in range(teams):
                t_next = min(t_next, team_done[site, k])
        if t_next > t_to:
            if not can and t_to != math.inf:
                closed += t_to - t
            return closed
        if not can:
            closed += t_next - t
        t = t_next
        for site in range(n_sites):
            for k in range(teams):
                if team_done[site, k] == t:
                    r = team_runway[site, k]
                    cuts[site, r] -= 1
                    working[site, r] -= 1
                    team_done[site, k] = math.inf
            _assign_teams(cuts, working, team_done, team_runway, site, t, n_runways, teams,
                          repair_h, cuts_to_close)  # fmt: skip


@pjit
def damage_trials(
    trial0,
    seed,
    counts,
    leaked,
    site_assets,
    sheltered,
    spacing_m,
    targets_cum,
    warhead_kind,
    warhead_f,
    p_hit,
    n_runways,
    cuts_to_close,
    repair_h,
    teams,
    interval_h,
    destroyed,
    site_destroyed,
    closed_min,
):
    """Damage of trials ``trial0 ..`` from their leakers ``leaked[i, s, g]``.

    ``p_hit[g]``: probability that a leaker of group g hits what it aims at (the draw
    follows the site draw, so the sites of the other leakers do not depend on it);
    ``site_assets[k, a]``: assets of group a at site k; ``targets_cum[g, :]``: cumulative
    target weights of group g over the asset groups, then the runway (last column),
    normalized to end at 1 (all zero: the group aims at nothing). Outputs per trial i:
    destroyed[i, s, a] assets of group a destroyed in salvo s; site_destroyed[i, k, a] over
    the campaign at site k; closed_min[i, s] minutes, rounded, during which the base could
    not launch aircraft between salvo s and the next (after the last salvo: until it
    reopens; if it cannot be repaired, until the end of the last interval).
    """
    n_trials = leaked.shape[0]
    n_salvos = counts.shape[0]
    n_groups = counts.shape[1]
    n_sites = site_assets.shape[0]
    n_assets = site_assets.shape[1]
    max_slots = 1
    for k in range(n_sites):
        for a in range(n_assets):
            max_slots = max(max_slots, site_assets[k, a])
    max_teams = max(teams, 1)
    max_runways = max(n_runways, 1)
    n_tasks = (n_trials + TRIALS_PER_TASK - 1) // TRIALS_PER_TASK
    for task in prange(n_tasks):
        alive = np.empty((n_sites, n_assets, max_slots), np.uint8)
        cuts = np.empty((n_sites, max_runways), np.int64)
        working = np.empty((n_sites, max_runways), np.int64)
        team_done = np.empty((n_sites, max_teams))
        team_runway = np.empty((n_sites, max_teams), np.int64)
        remaining = np.empty(n_sites, np.int64)
        first = task * TRIALS_PER_TASK
        last = min(n_trials, first + TRIALS_PER_TASK)
        for i in range(first, last):
            key0 = trial_key(seed, trial0 + i)
            for k in range(n_sites):
                for a in range(n_assets):
                    site_destroyed[i, k, a] = 0
                    for j in range(max_slots):
                        alive[k, a, j] = 1 if j < site_assets[k, a] else 0
                for r in range(max_runways):
                    cuts[k, r] = 0
                    working[k, r] = 0
                for m in range(max_teams):
                    team_done[k, m] = math.inf
                    team_runway[k, m] = -1
            t_prev = 0.0
            for s in range(n_salvos):
                t_salvo = s * interval_h
                if s > 0:
                    hours = _advance_repairs(
                        cuts, working, team_done, team_runway, t_prev, t_salvo, n_sites,
                        n_runways, teams, repair_h, cuts_to_close,
                    )  # fmt: skip
                    closed_min[i, s - 1] = round(hours * MINUTES_PER_HOUR)
                t_prev = t_salvo
                key = key0 if s == 0 else salvo_key(key0, s)
                for a in range(n_assets):
                    destroyed[i, s, a] = 0
                for g in range(n_groups):
                    n_leak = leaked[i, s, g]
                    if n_leak == 0 or targets_cum[g, targets_cum.shape[1] - 1] <= 0.0:
                        continue
                    # The group's threats per site (threat j aims at site j % sites).
                    total = counts[s, g]
                    for k in range(n_sites):
                        remaining[k] = total // n_sites + (1 if k < total % n_sites else 0)
                    for leaker in range(n_leak):
                        u = uniform(key, event_counter(DAMAGE, _SITE, 0, 0, g, leaker))
                        pick = u * total
                        site = 0
                        acc = remaining[0]
                        while pick >= acc and site < n_sites - 1:
                            site += 1
                            acc += remaining[site]
                        remaining[site] -= 1
                        total -= 1
                        if p_hit[g] < 1.0:
                            u = uniform(key, event_counter(DAMAGE, _HIT, 0, 0, g, leaker))
                            if u >= p_hit[g]:
                                continue  # a dud or a miss: no damage
                        u = uniform(key, event_counter(DAMAGE, _TARGET, 0, 0, g, leaker))
                        target = 0
                        while target < targets_cum.shape[1] - 1 and u >= targets_cum[g, target]:
                            target += 1
                        kind = warhead_kind[g]
                        if target == n_assets:  # the runway
                            if kind != WARHEAD_UNITARY or n_runways == 0:
                                continue
                            u = uniform(key, event_counter(DAMAGE, _CUT, 0, 0, g, leaker))
                            if u < warhead_f[g, WF_P_CUT]:
                                best = 0
                                for r in range(1, n_runways):
                                    if cuts[site, r] < cuts[site, best]:
                                        best = r
                                cuts[site, best] += 1
                            continue
                        n_slots = site_assets[site, target]
                        if n_slots == 0:
                            continue
                        u = uniform(key, event_counter(DAMAGE, _AIM, 0, 0, g, leaker))
                        aim = min(int(u * n_slots), n_slots - 1)
                        if kind == WARHEAD_UNITARY:
                            if alive[site, target, aim]:
                                p = warhead_f[g, WF_P_SHELTERED if sheltered[target] else WF_P_OPEN]
                                ctr = event_counter(DAMAGE, _KILL, 0, 0, g, leaker)
                                if uniform(key, ctr) < p:
                                    alive[site, target, aim] = 0
                                    destroyed[i, s, target] += 1
                                    site_destroyed[i, site, target] += 1
                        elif kind == WARHEAD_SUBMUNITION and not sheltered[target]:
                            radius, angle = impact_offset(key, g, leaker, warhead_f[g, WF_CEP_M])
                            dx = radius * math.cos(angle)
                            dy = radius * math.sin(angle)
                            reach = warhead_f[g, WF_FOOTPRINT_M]
                            gap = spacing_m[target]
                            for slot in range(n_slots):
                                if slot != aim and gap == math.inf:
                                    continue
                                x = 0.0 if slot == aim else (slot - aim) * gap
                                if (x - dx) ** 2 + dy * dy > reach * reach:
                                    continue
                                if not alive[site, target, slot]:
                                    continue
                                ctr = event_counter(
                                    DAMAGE, _FOOTPRINT, slot >> 8, slot & 255, g, leaker
                                )
                                if uniform(key, ctr) < warhead_f[g, WF_P_FOOTPRINT]:
                                    alive[site, target, slot] = 0
                                    destroyed[i, s, target] += 1
                                    site_destroyed[i, site, target] += 1
                # Repair teams go to work once the salvo's damage is known.
                for k in range(n_sites):
                    _assign_teams(cuts, working, team_done, team_runway, k, t_salvo, n_runways,
                                  teams, repair_h, cuts_to_close)  # fmt: skip
            # After the last salvo: until the base reopens (without repair teams: until the
            # end of the last interval).
            end = math.inf if teams > 0 else n_salvos * interval_h
            hours = _advance_repairs(
                cuts, working, team_done, team_runway, t_prev, end, n_sites, n_runways,
                teams, repair_h, cuts_to_close,
            )  # fmt: skip
            closed_min[i, n_salvos - 1] = round(hours * MINUTES_PER_HOUR)


@pjit
def ship_trials(trial0, seed, leaked, aims, p_hit, hits_to_kill, p_kill_per_hit, hits, lost):
    """Hits on a defended ship and when it is put out of action (docs/model.md).

    ``aims[g]`` (0/1): whether the leakers of group g aim at the ship; each hits it with
    ``p_hit[g]`` (no draw when it is 1), keyed like the base-damage draws (salvo key,
    group, index of the leaker among the group's leakers). The ship is out of action at
    its ``hits_to_kill``-th hit over the campaign, or, when ``p_kill_per_hit`` is not
    negative, at each hit with that probability (no draw when it is 1). Outputs per trial
    i and salvo s: hits[i, s] hits in the salvo, lost[i, s] = 1 in the salvo in which the
    ship was put out of action.
    """
    n_trials = leaked.shape[0]
    n_salvos = leaked.shape[1]
    n_groups = leaked.shape[2]
    for i in prange(n_trials):
        key0 = trial_key(seed, trial0 + i)
        taken = 0
        out = False
        for s in range(n_salvos):
            key = key0 if s == 0 else salvo_key(key0, s)
            hits[i, s] = 0
            lost[i, s] = 0
            for g in range(n_groups):
                if aims[g] == 0:
                    continue
                for leaker in range(leaked[i, s, g]):
                    if p_hit[g] < 1.0:
                        u = uniform(key, event_counter(DAMAGE, _HIT, 0, 0, g, leaker))
                        if u >= p_hit[g]:
                            continue
                    hits[i, s] += 1
                    taken += 1
                    if out:
                        continue
                    if p_kill_per_hit >= 0.0:
                        if p_kill_per_hit >= 1.0:
                            out = True
                        elif p_kill_per_hit > 0.0:
                            ctr = event_counter(DAMAGE, _SHIP_KILL, 0, 0, g, leaker)
                            out = uniform(key, ctr) < p_kill_per_hit
                    else:
                        out = taken >= hits_to_kill
                    if out:
                        lost[i, s] = 1
