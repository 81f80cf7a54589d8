"""Counter-based random numbers: every draw is a pure function of its key.

A draw is keyed by (seed, trial, purpose, event identity) and never by a running
counter, so results do not depend on thread count, chunking or machine, the first k
trials of a long run equal a run of k trials, and two scenarios that differ in one
parameter share the random numbers of every event they have in common (common random
numbers).

Construction (all arithmetic modulo 2**64):

* ``mix64`` is the SplitMix64 output function (Steele, Lea and Flood, "Fast splittable
  pseudorandom number generators", OOPSLA 2014; Vigna's reference ``splitmix64.c``).
  The full generator (``splitmix64_next`` in tests/kernel_helpers.py, built from
  ``mix64`` and ``GOLDEN``) is pinned by the published test vectors in tests/test_refimpl.py.
* The trial key is output number ``trial`` of SplitMix64 seeded with ``mix64(seed)``.
* A draw is ``mix64(trial_key XOR mix64(counter))``, where ``counter`` packs the purpose
  and the event identity into 64 bits (``event_counter``). For a fixed trial, distinct
  counters give distinct outputs (both mixes are bijections).
* A uniform in [0, 1) takes the top 53 bits.
"""

import math

import numpy as np

from costx.kernels._jit import jit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53

# Purposes (top byte of the counter). Never renumber: results depend on them.
ARRIVAL = np.uint64(1)
KILL = np.uint64(2)
WEATHER = np.uint64(3)
SALVO = np.uint64(4)  # derives the key of salvo s > 0 of a campaign from the trial key
DAMAGE = np.uint64(5)  # draws of the base-damage model
RELIABILITY = np.uint64(6)  # whether a kinetic round functions (drawn only if reliability < 1)
COMMON_MODE = np.uint64(7)  # whether a whole engagement fails together (only if its p > 0)
ATMOSPHERE = np.uint64(8)  # the weather state of a salvo ([[weather]]), one draw per salvo


@jit
def mix64(z):
    """SplitMix64 output function (a bijection on uint64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit
def trial_key(seed, trial):
    """The key of one trial: output ``trial`` (0-based) of SplitMix64 seeded with mix64(seed)."""
    return mix64(mix64(seed) + (np.uint64(trial) + np.uint64(1)) * GOLDEN)


@jit
def salvo_key(key, salvo):
    """The key of salvo ``salvo`` > 0 of a trial (salvo 0 uses the trial key itself)."""
    return mix64(key ^ mix64((SALVO << np.uint64(56)) | np.uint64(salvo)))


@jit
def event_counter(purpose, effector, engagement, round_, group, index):
    """Pack an event identity into 64 bits.

    purpose: 8 bits, effector: 8 bits, engagement: 8 bits, round: 8 bits,
    threat group: 8 bits, index of the threat in its group: 24 bits. The scenario model
    enforces these limits.
    """
    return (
        (np.uint64(purpose) << np.uint64(56))
        | (np.uint64(effector) << np.uint64(48))
        | (np.uint64(engagement) << np.uint64(40))
        | (np.uint64(round_) << np.uint64(32))
        | (np.uint64(group) << np.uint64(24))
        | np.uint64(index)
    )


@jit
def draw_bits(key, counter):
    """64 random bits for one event of one trial."""
    return mix64(key ^ mix64(counter))


@jit
def uniform(key, counter):
    """A uniform draw in [0, 1) for one event of one trial (53-bit resolution)."""
    return np.float64(draw_bits(key, counter) >> _S11) * _TWO_M53


@jit
def draw_mixed(key, mixed):
    """The 53 bits m that ``uniform(key, counter)`` takes (the uniform is m 2^-53), from
    ``mixed = mix64(counter)``, which a caller that draws with the same counter under many
    keys (the graph of recurring states: one node, every trial that passes it) computes
    once. Compared with ``int_threshold(p)``, the same outcome as ``uniform < p``."""
    return np.int64(mix64(key ^ mixed) >> _S11)


@jit
def int_threshold(p):
    """The integer T such that ``uniform(key, counter) < p`` exactly when
    ``draw_mixed(key, mix64(counter)) < T``, for every key and counter. The uniform is
    m 2^-53 with m an integer below 2^53 (exact in float64); m 2^-53 < p is m < p 2^53
    (exact: a power-of-two scaling), and for an integer m that is m < ceil(p 2^53). No m
    lies below p <= 0 (or NaN): T = 0; every m lies below p >= 1: T = 2^53."""
    if not p > 0.0:
        return np.int64(0)
    if p >= 1.0:
        return np.int64(1) << np.int64(53)
    return np.int64(math.ceil(p * 9007199254740992.0))


@jit
def sum_uniforms(seed, n):
    """Sum of n keyed uniforms of trial 0 (measures the cost of a draw without memory)."""
    key = trial_key(seed, 0)
    total = 0.0
    for i in range(n):
        total += uniform(key, np.uint64(i))
    return total
