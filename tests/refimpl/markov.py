"""Exact Markov-chain enumeration of sequential engagements from one magazine.

Setting: N threats arrive so far apart that each is completely finished before the next
arrives. One kinetic effector with a magazine of M rounds engages each threat with
salvos of ``s`` rounds, at most ``n`` engagements per threat, each round killing with
probability ``p`` independently (docs/model.md, "Kinetic effectors"):

* an engagement fires ``min(s, rounds left)`` rounds (a salvo truncated by the magazine)
  and all of them are spent even if an early one kills;
* after a miss the threat is engaged again while it has had fewer than ``n`` engagements
  and rounds remain; otherwise it leaks.

The chain's state between threats is (rounds left, leakers so far); within a threat,
(rounds left, engagements so far). The result is the exact joint distribution of
(leakers, rounds fired). Arithmetic is generic, so passing ``fractions.Fraction``
probabilities gives exact rational results.
"""

from __future__ import annotations

from collections import defaultdict


def one_threat(rounds_left: int, salvo: int, max_engagements: int, pk):
    """Distribution of (killed, rounds used) for one threat: {(bool, int): prob}."""
    q = 1 - pk
    out: dict[tuple[bool, int], object] = defaultdict(int)
    # States: (engagements so far, rounds used so far) -> probability the threat is alive.
    alive: dict[tuple[int, int], object] = {(0, 0): 1}
    while alive:
        nxt: dict[tuple[int, int], object] = defaultdict(int)
        for (eng, used), prob in alive.items():
            left = rounds_left - used
            if eng >= max_engagements or left == 0:
                out[False, used] += prob  # no engagement left: it leaks
                continue
            k = min(salvo, left)
            miss = q**k
            out[True, used + k] += prob * (1 - miss)
            nxt[eng + 1, used + k] += prob * miss
        alive = nxt
    return dict(out)


def joint_distribution(n_threats: int, magazine: int, salvo: int, max_engagements: int, pk):
    """Exact P(leakers = l, rounds fired = r) as a dict {(l, r): prob}."""
    state: dict[tuple[int, int], object] = {(magazine, 0): 1}  # (rounds left, leakers)
    for _ in range(n_threats):
        nxt: dict[tuple[int, int], object] = defaultdict(int)
        for (left, leakers), prob in state.items():
            for (killed, used), p_outcome in one_threat(left, salvo, max_engagements, pk).items():
                nxt[left - used, leakers + (0 if killed else 1)] += prob * p_outcome
        state = nxt
    out: dict[tuple[int, int], object] = defaultdict(int)
    for (left, leakers), prob in state.items():
        out[leakers, magazine - left] += prob
    return dict(out)


def marginal_moments(dist: dict[tuple[int, int], object]):
    """(E[leakers], Var[leakers], E[rounds], Var[rounds]) of a joint distribution."""
    el = sum(p * leak for (leak, _), p in dist.items())
    er = sum(p * r for (_, r), p in dist.items())
    vl = sum(p * (leak - el) ** 2 for (leak, _), p in dist.items())
    vr = sum(p * (r - er) ** 2 for (_, r), p in dist.items())
    return el, vl, er, vr
