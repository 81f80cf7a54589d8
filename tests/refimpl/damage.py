"""Plain-Python damage to a defended base and a defended ship, one trial at a time.

Written from the rules in docs/model.md ("Campaigns: salvos in sequence", "The defended
base", "A defended ship", "Random numbers") and the module docstring of
costx.kernels.damage, for clarity rather than speed: lists, dicts and linear scans, no
Numba and nothing imported from costx.kernels. It reads the loaded ``Scenario`` itself
(not the arrays of ``costx.lowering``) and uses the same keyed draws as the kernel
(``refimpl.rng``), so its results should equal the kernel's trial by trial, given the
same leaker counts ``leaked[s][g]``.

The draws (purpose DAMAGE = 5; the effector byte names the draw; ``j`` is the leaker's
index among its group's leakers in the salvo; salvo 0 uses the trial key, salvo s > 0
``mix64(key ^ mix64(4 << 56 | s))``): site 0, target 1, aim 2, kill 3, radius 4, angle 5,
cut 6, footprint kill 7 (engagement and round bytes: the covered slot, ``slot >> 8`` and
``slot & 255``), hit 8, ship kill 9. An event happens when its uniform is below its
probability.

How the structure differs from the kernel's: damage is applied leaker by leaker, but the
runway timeline is played per site as a list of dated cut and repair events (each site's
teams only ever work on their own site's runways), and the hours the base is closed are
measured afterwards, by a sweep over the merged event lists, not while repairing.

Readings of the rules where they leave a detail open (the kernel's documented or evident
convention, followed here):

* Order: within a salvo, groups in file order and, within a group, leakers by index. The
  site draw depends on it (without replacement, leaker 0 first); the damage does not: an
  asset is destroyed when some leaker's kill draw on it succeeds, and each cut goes to a
  runway with the fewest cuts, so the cut counts of a site do not depend on which leaker
  made which cut.
* Sites without replacement: the group's threats of the salvo, their aim sites
  ``j % sites`` listed in order of site, form a pool; a leaker takes pool entry
  ``floor(u * len(pool))`` and removes it.
* A uniform choice among n (parking slot) is ``floor(u * n)``.
* The impact point is ``(r cos a, r sin a)`` from the aimed slot, the parking row runs
  along the first axis, slot j at ``(j - aim) * spacing_m``; the radius is the inverse
  CDF of the Rayleigh distribution, ``sigma sqrt(-2 ln(1 - u))``. "Within footprint_m"
  includes the boundary.
* A leaker whose aim site has no asset of its target group does nothing; a submunition
  aimed at sheltered assets or at the runway does nothing; no draw is made for either.
* Runway repair, "closest to reopening": among the runways with cuts that no team is
  repairing yet, first those that would still be closed once the repairs under way are
  done, fewest such repairs still to start first (``cuts - under_way - (cuts_to_close -
  1)``); then the others (already open, or reopening once the repairs under way are
  done), fewest cuts not yet under way first; ties: lower index
  (``costx.kernels.damage._assign_teams``).
* Events at one instant: repairs finishing at a salvo's time are done (and their teams
  given new cuts) before that salvo's damage; idle teams take cuts once the damage is
  known.
* A base without runways can always launch aircraft.
* ``closed_min``: the minutes, rounded, during which no site had an open runway, in
  ``[s interval_h, (s + 1) interval_h)`` for salvo s; for the last salvo from its
  arrival until the base reopens, or, without repair teams, until ``salvos x
  interval_h``. Cuts only ever go away after the last salvo, so "until it reopens" is the
  closed time from the last salvo on with every cut repaired.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from refimpl import rng as rr

DAMAGE = 5
SALVO = 4
SITE, TARGET, AIM, KILL, RADIUS, ANGLE, CUT, FOOTPRINT, HIT, SHIP_KILL = range(10)
RUNWAY = "runway"


def salvo_key(trial_key: int, salvo: int) -> int:
    """Key of salvo ``salvo`` of a trial (docs/model.md, "Random numbers")."""
    if salvo == 0:
        return trial_key
    return rr.mix64(trial_key ^ rr.mix64(SALVO << 56 | salvo))


def _draw(key: int, what: int, group: int, leaker: int, slot: int = 0) -> float:
    counter = rr.event_counter(DAMAGE, what, slot >> 8, slot & 255, group, leaker)
    return rr.uniform(key, counter)


@dataclass
class BaseTrial:
    """Outputs of one trial: ``destroyed[s][a]``, ``site_destroyed[k][a]``,
    ``closed_min[s]`` (the kernel's ``destroyed[i]``, ``site_destroyed[i]``,
    ``closed_min[i]``)."""

    destroyed: list[list[int]]
    site_destroyed: list[list[int]]
    closed_min: list[int]
    cuts_made: int = 0  # runway cuts over the campaign (for coverage checks)
    multi_kills: int = 0  # submunitions that destroyed more than one asset (coverage)
    misses: int = 0  # leakers that missed (p_hit; coverage)


@dataclass
class _Site:
    """One dispersal site's runways and repair teams, with its dated runway events."""

    cuts: list[int]
    under_way: list[int]  # cuts of each runway a team is repairing
    teams: list[tuple[float, int] | None]  # (done at, runway) of a busy team, None if idle
    events: list[tuple[float, int, int]] = field(default_factory=list)  # (t, runway, +-1)

    def pick_runway(self, cuts_to_close: int) -> int | None:
        """The runway closest to reopening among those with a cut no team has yet (the
        kernel's ranking, see the module docstring), or None."""
        best, best_rank = None, None
        for r, n in enumerate(self.cuts):
            waiting = n - self.under_way[r]
            if waiting <= 0:
                continue
            still_needed = waiting - (cuts_to_close - 1)
            rank = (0, still_needed, r) if still_needed > 0 else (1, waiting, r)
            if best_rank is None or rank < best_rank:
                best, best_rank = r, rank
        return best

    def give_work(self, t: float, repair_h: float, cuts_to_close: int) -> None:
        for k, busy in enumerate(self.teams):
            if busy is not None:
                continue
            r = self.pick_runway(cuts_to_close)
            if r is None:
                return
            self.under_way[r] += 1
            self.teams[k] = (t + repair_h, r)

    def repair_until(self, t_end: float, repair_h: float, cuts_to_close: int) -> None:
        """Finish every repair done by ``t_end`` (inclusive), giving freed teams new cuts."""
        while True:
            times = [busy[0] for busy in self.teams if busy is not None]
            if not times or min(times) > t_end:
                return
            t = min(times)
            for k, busy in enumerate(self.teams):
                if busy is not None and busy[0] == t:
                    r = busy[1]
                    self.cuts[r] -= 1
                    self.under_way[r] -= 1
                    self.events.append((t, r, -1))
                    self.teams[k] = None
            self.give_work(t, repair_h, cuts_to_close)

    def cut(self, t: float) -> None:
        r = min(range(len(self.cuts)), key=lambda i: (self.cuts[i], i))
        self.cuts[r] += 1
        self.events.append((t, r, +1))


def _closed_hours(sites: list[_Site], runways: int, cuts_to_close: int, t0: float, t1: float):
    """Hours in ``[t0, t1)`` during which no site had a runway with fewer than
    ``cuts_to_close`` cuts, replaying the sites' dated events from the start."""
    if runways == 0 or t1 <= t0:
        return 0.0
    cuts = [[0] * runways for _ in sites]
    merged = sorted((t, k, r, d) for k, site in enumerate(sites) for (t, r, d) in site.events)
    times = sorted({e[0] for e in merged if t0 < e[0] < t1})
    edges = [t0, *times, t1]
    closed = 0.0
    pos = 0
    for a, b in itertools.pairwise(edges):
        while pos < len(merged) and merged[pos][0] <= a:  # the state on (a, b)
            _, k, r, d = merged[pos]
            cuts[k][r] += d
            pos += 1
        if not any(n < cuts_to_close for row in cuts for n in row):
            closed += b - a
    return closed


def base_trial(scenario, seed: int, trial: int, leaked) -> BaseTrial:
    """Damage to ``scenario.base`` in trial ``trial`` from ``leaked[s][g]`` leakers."""
    base = scenario.base
    groups = scenario.threats
    assets = list(base.assets)
    names = [a.name for a in assets]
    n_sites = base.dispersal_sites
    runways = base.runways
    repair_h = base.repair_h_per_cut
    ctc = base.cuts_to_close
    campaign = scenario.campaign
    interval_h = 24.0 if campaign is None else campaign.interval_h
    counts = scenario.salvo_counts()
    n_salvos = len(counts)

    # alive[k][a][slot]: the assets of group a parked at site k, in their row.
    alive = [
        [[True] * (a.count // n_sites + (1 if k < a.count % n_sites else 0)) for a in assets]
        for k in range(n_sites)
    ]
    sites = [
        _Site([0] * runways, [0] * runways, [None] * base.repair_teams) for _ in range(n_sites)
    ]
    out = BaseTrial(
        destroyed=[[0] * len(assets) for _ in range(n_salvos)],
        site_destroyed=[[0] * len(assets) for _ in range(n_sites)],
        closed_min=[0] * n_salvos,
    )
    key0 = rr.trial_key(seed, trial)

    def destroy(s: int, k: int, a: int, slot: int) -> None:
        alive[k][a][slot] = False
        out.destroyed[s][a] += 1
        out.site_destroyed[k][a] += 1

    for s in range(n_salvos):
        t_s = s * interval_h
        for site in sites:
            site.repair_until(t_s, repair_h, ctc)
        key = salvo_key(key0, s)
        for g, group in enumerate(groups):
            weights = [group.targets.get(name, 0.0) for name in [*names, RUNWAY]]
            total_w = sum(weights)
            if not total_w > 0 or leaked[s][g] == 0:
                continue
            pool = sorted(j % n_sites for j in range(counts[s][g]))
            for leaker in range(leaked[s][g]):
                u = _draw(key, SITE, g, leaker)
                k = pool.pop(min(int(u * len(pool)), len(pool) - 1))
                if group.p_hit < 1.0 and not _draw(key, HIT, g, leaker) < group.p_hit:
                    out.misses += 1  # a dud or a miss: no damage
                    continue
                u = _draw(key, TARGET, g, leaker)
                target, acc = len(weights) - 1, 0.0
                for t, w in enumerate(weights[:-1]):
                    acc += w
                    if u < acc / total_w:
                        target = t
                        break
                warhead = group.warhead
                kind = None if warhead is None else warhead.kind
                if target == len(assets):  # the runway
                    if kind == "unitary" and _draw(key, CUT, g, leaker) < warhead.p_cut_runway:
                        sites[k].cut(t_s)
                        out.cuts_made += 1
                    continue
                row = alive[k][target]
                if not row:
                    continue  # no asset of the group at this site
                aim = min(int(_draw(key, AIM, g, leaker) * len(row)), len(row) - 1)
                asset = assets[target]
                if kind == "unitary":
                    p = warhead.p_kill_sheltered if asset.sheltered else warhead.p_kill_open
                    if row[aim] and _draw(key, KILL, g, leaker) < p:
                        destroy(s, k, target, aim)
                elif kind == "submunition" and not asset.sheltered:
                    sigma = warhead.cep_m / math.sqrt(2.0 * math.log(2.0))
                    radius = sigma * math.sqrt(-2.0 * math.log(1.0 - _draw(key, RADIUS, g, leaker)))
                    angle = 2.0 * math.pi * _draw(key, ANGLE, g, leaker)
                    ix, iy = radius * math.cos(angle), radius * math.sin(angle)
                    spacing = asset.spacing_m
                    killed = 0
                    for slot, here in enumerate(row):
                        if slot != aim and spacing is None:
                            continue  # without spacing only the aimed asset can be covered
                        x = 0.0 if slot == aim else (slot - aim) * spacing
                        if not here or math.hypot(x - ix, iy) > warhead.footprint_m:
                            continue
                        if _draw(key, FOOTPRINT, g, leaker, slot) < warhead.p_kill_in_footprint:
                            destroy(s, k, target, slot)
                            killed += 1
                    out.multi_kills += killed > 1
        for site in sites:
            site.give_work(t_s, repair_h, ctc)

    # Teams finish every cut after the last salvo (the base is closed only until it
    # reopens, and cuts only go away from then on); without teams nothing changes.
    for site in sites:
        site.repair_until(math.inf, repair_h, ctc)
    for s in range(n_salvos):
        t0 = s * interval_h
        if s < n_salvos - 1:
            t1 = (s + 1) * interval_h
        else:
            t1 = math.inf if base.repair_teams > 0 else n_salvos * interval_h
        out.closed_min[s] = round(_closed_hours(sites, runways, ctc, t0, t1) * 60.0)
    return out


@dataclass
class ShipTrial:
    """``hits[s]`` and ``lost[s]`` of one trial (the kernel's ``hits[i]``, ``lost[i]``)."""

    hits: list[int]
    lost: list[int]


def ship_trial(scenario, seed: int, trial: int, leaked) -> ShipTrial:
    """Hits on ``scenario.ship`` in trial ``trial`` from ``leaked[s][g]`` leakers: every
    leaker of a group without ``targets`` aims at the ship."""
    ship = scenario.ship
    n_salvos = len(leaked)
    out = ShipTrial([0] * n_salvos, [0] * n_salvos)
    key0 = rr.trial_key(seed, trial)
    taken = 0
    out_of_action = False
    for s in range(n_salvos):
        key = salvo_key(key0, s)
        for g, group in enumerate(scenario.threats):
            if group.targets:
                continue  # aims at the base
            for leaker in range(leaked[s][g]):
                if group.p_hit < 1.0 and not _draw(key, HIT, g, leaker) < group.p_hit:
                    continue
                out.hits[s] += 1
                taken += 1
                if out_of_action:
                    continue  # counts as a hit, costs nothing more
                q = ship.p_kill_per_hit
                if q is None:
                    out_of_action = taken >= ship.hits_needed
                elif q >= 1.0:
                    out_of_action = True
                elif q > 0.0:
                    out_of_action = _draw(key, SHIP_KILL, g, leaker) < q
                if out_of_action:
                    out.lost[s] = 1
    return out
