"""Time per laser engagement: the old fixed-spread path (exact in-cell quadrature) against
the tabulated path of turbulence and thermal blooming (issue 14), measured in the same run.

A laser-only raid: 40 drones and 10 cruise missiles over ten minutes against two lasers of
two units each; every threat is lased once and killed, so the time per trial divided by
the 50 engagements is the time per laser engagement. Issue 14 asks the tabulated path to
stay within 1.5x of the old one: compare the two benchmarks' means (the ratio is printed
by ``pytest benchmarks/test_laser.py --benchmark-enable``).
"""

import pytest
from benchutil import run
from scenarios import laser, scenario, threat

from costx.simulation import simulate

PHYSICS = {
    "plain": {},
    "turbulence_blooming": {
        "cn2": 1e-14,
        "absorption_per_km": 0.02,
        "wind_mps": 5.0,
        "jitter_urad": 0.0,
        "jitter_per_axis_urad": 3.5,
    },
}


def laser_raid(**physics) -> dict:
    return scenario(
        [
            threat("drone", 40, arrival="uniform", window_s=600.0, detect_range_km=12.0),
            threat("cruise", 10, speed_mps=250.0, detect_range_km=20.0, arrival="uniform",
                   window_s=600.0, kill_fluence_j_cm2=2000.0),
        ],
        [
            laser("l1", units=2, max_range_km=8.0, **physics),
            laser("l2", power_kw=150.0, units=2, max_range_km=10.0, aperture_m=0.5, **physics),
        ],
        name="laser_raid",
    )  # fmt: skip


@pytest.mark.parametrize("physics", list(PHYSICS))
def test_laser_engagement(benchmark, full, physics):
    trials = 100_000 if full else 2_000
    result = run(benchmark, simulate, laser_raid(**PHYSICS[physics]), trials=trials, seed=0,
                 threads=1, keep_trials=False)  # fmt: skip
    s = result.summary()
    engagements = s.loc["shots_l1", "mean"] + s.loc["shots_l2", "mean"]
    benchmark.extra_info.update(trials=trials, engagements_per_trial=engagements)
    assert engagements == pytest.approx(50.0, abs=0.5)  # every threat lased about once
