"""The engine makes the divisions of ``_entry_time`` and ``_last_start`` once a salvo
(kernels/engagement.py, ``_reach_times``) and adds them to each threat's detection time
(``_entered``, ``_last``). Trials stay bit-identical only if those give exactly what the two
functions give: checked here bit for bit (signed zeros and NaN included) on random
envelopes and threats, on edge cases, and on the lowered arrays of every bundled scenario.
"""

import math
import random

import numpy as np

from costx import bundled
from costx.kernels import engagement as K
from costx.lowering import lower
from costx.scenario import load_scenario


def _bits(x: float) -> int:
    return int(np.array([x]).view(np.int64)[0])


def _compare(threat_f, r_first, r_last, t_seens):
    """Mismatches of (_entered, _last) against (_entry_time, _last_start) over every
    effector, group and detection time in ``t_seens``."""
    reach = np.full((*r_first.shape, 2), np.nan)
    K._reach_times(threat_f, r_first, r_last, reach)
    bad = []
    for e in range(r_first.shape[0]):
        for g in range(r_first.shape[1]):
            r0, v = threat_f[g, K.TF_RANGE_KM], threat_f[g, K.TF_SPEED_MPS]
            for ts in t_seens:
                pairs = (
                    (K._entered(reach, e, g, ts), K._entry_time(r0, v, ts, r_first[e, g])),
                    (K._last(reach, e, g, ts), K._last_start(r0, v, ts, r_last[e, g])),
                )
                for got, want in pairs:
                    if _bits(got) != _bits(want):
                        bad.append((e, g, ts, got, want))
    return bad


def _threat_f(ranges, speeds):
    tf = np.zeros((len(ranges), K.TF_COLUMNS))
    tf[:, K.TF_RANGE_KM] = ranges
    tf[:, K.TF_SPEED_MPS] = speeds
    return tf


def test_random_envelopes_and_threats_bit_for_bit():
    """2,000 random (range at detection, speed, envelope, detection time) draws, the
    envelope edge inside, at or beyond the detection range."""
    rng = random.Random(5)
    bad = []
    for _ in range(200):
        n_eff, n_groups = rng.randint(1, 3), rng.randint(1, 3)
        ranges = [10 ** rng.uniform(-1, 3) for _ in range(n_groups)]
        speeds = [10 ** rng.uniform(1, 3.7) for _ in range(n_groups)]
        r_first = np.array([[rng.choice([rng.uniform(0, 2 * r), r, 0.0]) for r in ranges]
                            for _ in range(n_eff)])  # fmt: skip
        r_last = np.array([[rng.uniform(0, r) for r in ranges] for _ in range(n_eff)])
        t_seens = [rng.uniform(0, 1e4) for _ in range(5)] + [0.0, -0.0]
        bad += _compare(_threat_f(ranges, speeds), r_first, r_last, t_seens)
    assert bad == [], bad[:5]


def test_edge_cases_bit_for_bit():
    """A threat in reach at detection (its entry is its detection, -0.0 kept), an envelope
    that starts exactly at the detection range, and envelopes that are NaN or infinite."""
    tf = _threat_f([50.0, 3.0], [300.0, 51.4])
    r_first = np.array([[50.0, 8.0], [math.inf, math.nan], [0.0, 3.0]])
    r_last = np.array([[1.0, 0.5], [0.0, math.nan], [50.0, 3.0]])
    assert _compare(tf, r_first, r_last, [0.0, -0.0, 17.25, 1e9]) == []


def test_every_bundled_scenario_bit_for_bit():
    """The envelopes of every weather state of every bundled scenario."""
    checked = 0
    for name in bundled.scenario_names():
        arrays = lower(load_scenario(name))
        for ws in range(arrays.r_first.shape[0]):
            bad = _compare(arrays.threat_f, arrays.r_first[ws], arrays.r_last[ws],
                           [0.0, 12.5, 301.0])  # fmt: skip
            assert bad == [], (name, ws, bad[:3])
            checked += 1
    assert checked >= 5
