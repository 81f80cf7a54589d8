"""Closed forms for one threat and for layered raids (validation.md, V4).

Single-shot kill probability ``p``, ``q = 1 - p``; a perfect "look" and enough time to
re-engage:

| doctrine                         | P(kill)        | E[rounds]                      |
|----------------------------------|----------------|--------------------------------|
| salvo of m                       | 1 - q^m        | m                              |
| shoot-look-shoot, up to n shots  | 1 - q^n        | (1 - q^n) / p                  |
| SS-L-SS (two salvos of 2)        | 1 - q^4        | 2 + 2 q^2                      |
| general: n salvos of s           | 1 - q^(s n)    | s (1 - q^(s n)) / (1 - q^s)    |

The general line follows because engagement i (0-based) is fired with probability
q^(s i) (all earlier salvos missed), and each fires s rounds.

With round reliability r and common-mode failure c per engagement (docs/model.md,
"Kinetic effectors"; validation.md V3/V4's tracking or common-mode factor T = 1 - c), a
round kills with r p and an engagement of s rounds with K = (1 - c)(1 - (1 - r p)^s); the
general line holds with q^s replaced by 1 - K.
"""

from __future__ import annotations

import math


def salvo(p: float, m: int) -> tuple[float, float]:
    """(P(kill), E[rounds]) for one salvo of m rounds."""
    q = 1 - p
    return 1 - q**m, float(m)


def shoot_look_shoot(p: float, n: int) -> tuple[float, float]:
    """(P(kill), E[rounds]) for up to n single shots, each after seeing the last miss."""
    q = 1 - p
    return 1 - q**n, (1 - q**n) / p


def ss_l_ss(p: float) -> tuple[float, float]:
    """(P(kill), E[rounds]) for shoot-shoot-look-shoot-shoot."""
    q = 1 - p
    return 1 - q**4, 2 + 2 * q**2


def doctrine(p: float, salvo_size: int, max_engagements: int) -> tuple[float, float]:
    """(P(kill), E[rounds]) for up to ``max_engagements`` salvos of ``salvo_size``."""
    q = 1 - p
    miss_salvo = q**salvo_size
    p_kill = 1 - miss_salvo**max_engagements
    rounds = salvo_size * sum(miss_salvo**i for i in range(max_engagements))
    return p_kill, rounds


def doctrine_rounds_variance(p: float, salvo_size: int, max_engagements: int) -> float:
    """Var[rounds] for the general doctrine: rounds = s * (number of salvos fired)."""
    miss_salvo = (1 - p) ** salvo_size
    # P(at least i+1 salvos) = miss_salvo**i for i < n.
    probs = [miss_salvo**i for i in range(max_engagements)]
    exact = [
        probs[i] - (probs[i + 1] if i + 1 < max_engagements else 0.0) for i in range(len(probs))
    ]
    mean = sum((i + 1) * w for i, w in enumerate(exact))
    second = sum((i + 1) ** 2 * w for i, w in enumerate(exact))
    return salvo_size**2 * (second - mean**2)


def layer_kill(p: float, n: int, tracking: float = 1.0) -> float:
    """Layer kill probability T [1 - (1 - p)^n] with a common-mode (tracking) factor T."""
    return tracking * (1 - (1 - p) ** n)


def layered_leak(layers: list[tuple[float, int, float]]) -> float:
    """Per-threat leak probability through independent layers (p, n, T)."""
    return math.prod(1 - layer_kill(p, n, t) for p, n, t in layers)


def raid_leakers(leak: float, raid: int) -> tuple[float, float]:
    """(E[leakers], P(0 leakers)) for a raid of independent threats."""
    return raid * leak, (1 - leak) ** raid


def cost_per_kill(cost_per_round: float, p: float, salvo_size: int, max_engagements: int) -> float:
    """Cost per kill c E[rounds] / P(kill) for one threat."""
    p_kill, rounds = doctrine(p, salvo_size, max_engagements)
    return cost_per_round * rounds / p_kill


def engagement_kill(p: float, salvo_size: int, reliability: float = 1.0, common: float = 0.0):
    """K = (1 - c)(1 - (1 - r p)^s): one engagement of s rounds kills."""
    return (1 - common) * (1 - (1 - reliability * p) ** salvo_size)


def doctrine_with_failures(
    p: float, salvo_size: int, max_engagements: int, reliability: float, common: float
) -> tuple[float, float, float]:
    """(P(kill), E[rounds], Var[rounds]) for up to n engagements of s rounds, each killing
    with K = engagement_kill(...): engagement i is fired with probability (1 - K)^i."""
    miss = 1 - engagement_kill(p, salvo_size, reliability, common)
    fired = [miss**i for i in range(max_engagements)]  # P(at least i + 1 engagements)
    exact = [
        fired[i] - (fired[i + 1] if i + 1 < max_engagements else 0.0) for i in range(len(fired))
    ]
    mean = sum((i + 1) * w for i, w in enumerate(exact))
    second = sum((i + 1) ** 2 * w for i, w in enumerate(exact))
    return 1 - miss**max_engagements, salvo_size * mean, salvo_size**2 * (second - mean**2)
