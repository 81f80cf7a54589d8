"""Pure-Python SplitMix64 and the keyed draws of docs/model.md ("Random numbers").

Written from the contract only, with Python integers reduced modulo 2**64, so that it
shares no code (and no unsigned-integer pitfalls) with ``costx.kernels.rng``.

* ``mix64`` is the SplitMix64 output function (Steele, Lea and Flood, OOPSLA 2014;
  Vigna's ``splitmix64.c``); ``SplitMix64`` is the full generator, pinned by the published
  test vectors in tests/test_refimpl.py.
* ``trial_key(seed, trial) = mix64(mix64(seed) + (trial + 1) * 0x9E3779B97F4A7C15)``.
* ``event_counter`` packs ``purpose << 56 | effector << 48 | engagement << 40 |
  round << 32 | group << 24 | j``.
* ``uniform(key, counter) = (mix64(key ^ mix64(counter)) >> 11) * 2**-53``.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15

# Purposes (top byte of the counter), as listed in docs/model.md.
ARRIVAL = 1
KILL = 2
WEATHER = 3
RELIABILITY = 6
COMMON_MODE = 7
ATMOSPHERE = 8


def mix64(z: int) -> int:
    """SplitMix64 output function on a 64-bit unsigned integer."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SplitMix64:
    """The SplitMix64 generator: ``state += golden; return mix64(state)``."""

    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & MASK64
        return mix64(self.state)


def trial_key(seed: int, trial: int) -> int:
    """Key of one trial: output number ``trial`` of SplitMix64 seeded with mix64(seed)."""
    return mix64((mix64(seed) + (trial + 1) * GOLDEN) & MASK64)


def event_counter(
    purpose: int,
    effector: int = 0,
    engagement: int = 0,
    round_: int = 0,
    group: int = 0,
    j: int = 0,
) -> int:
    """Pack an event identity into 64 bits (8/8/8/8/8/24 bits)."""
    fields = ((purpose, 8), (effector, 8), (engagement, 8), (round_, 8), (group, 8), (j, 24))
    for value, bits in fields:
        if not 0 <= value < (1 << bits):
            raise ValueError(f"{value} does not fit in {bits} bits")
    return (
        purpose << 56 | effector << 48 | engagement << 40 | round_ << 32 | group << 24 | j
    ) & MASK64


def uniform(key: int, counter: int) -> float:
    """Uniform in [0, 1) with 53-bit resolution for one event of one trial."""
    return (mix64(key ^ mix64(counter)) >> 11) * 2.0**-53


def arrival_uniform(seed: int, trial: int, group: int, j: int) -> float:
    """The arrival draw of threat ``j`` (index before sorting) of ``group``."""
    return uniform(trial_key(seed, trial), event_counter(ARRIVAL, 0, 0, 0, group, j))


def kill_uniform(
    seed: int, trial: int, effector: int, engagement: int, round_: int, group: int, j: int
) -> float:
    """The draw deciding whether round ``round_`` of an engagement kills its threat."""
    return uniform(
        trial_key(seed, trial), event_counter(KILL, effector, engagement, round_, group, j)
    )


def weather_uniform(seed: int, trial: int) -> float:
    """The one weather draw of a trial, shared by every laser."""
    return uniform(trial_key(seed, trial), event_counter(WEATHER))


def reliability_uniform(
    seed: int, trial: int, effector: int, engagement: int, round_: int, group: int, j: int
) -> float:
    """The draw deciding whether round ``round_`` of an engagement functions."""
    return uniform(
        trial_key(seed, trial), event_counter(RELIABILITY, effector, engagement, round_, group, j)
    )


def common_mode_uniform(
    seed: int, trial: int, effector: int, engagement: int, group: int, j: int
) -> float:
    """The draw deciding whether a whole engagement suffers a common-mode failure."""
    return uniform(
        trial_key(seed, trial), event_counter(COMMON_MODE, effector, engagement, 0, group, j)
    )


def atmosphere_uniform(seed: int, trial: int) -> float:
    """The draw that picks a trial's weather state ([[weather]])."""
    return uniform(trial_key(seed, trial), event_counter(ATMOSPHERE))
