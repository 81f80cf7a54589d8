"""Old scenarios give the same trials, bit for bit (tests/golden_digest.py).

The directed-energy and railgun physics of issue 14 (turbulence from ``cn2``, thermal
blooming, per-axis jitter, weather states, minimum dwell, track/settle time, projectile
drag, pk falling with flight time) switch on only through new fields. A scenario without
them must play every trial exactly as before they existed: this test recomputes the
SHA-256 of the raw per-trial outputs of the bundled scenarios (fully resolved as of
before the change, so later catalog calibrations do not move them), the test suite's
mixed scenario under both policies and 24 random scenarios of the kernel-reference
generators, and compares them with digests computed before the change.

One digest was recomputed on purpose since: ``mixed_cost_aware`` (the only one whose trials
moved), when cost_aware's prediction of a laser's engagement became the engagement's own
computation instead of a 128-cell table (issue 16; docs/model.md, "Policies").
"""

from __future__ import annotations

import json

import pytest
from golden_digest import HERE, cases, digest, load

MANIFEST = json.loads((HERE / "digests.json").read_text())


@pytest.mark.parametrize("name", sorted(cases()))
def test_old_scenarios_give_the_same_trials(name):
    scenario = load(HERE / f"{name}.toml")
    assert digest(scenario, MANIFEST["trials"][name], MANIFEST["seed"]) == MANIFEST["digests"][name]


def test_digest_sees_a_one_trial_change():
    """Power: moving the seed by one changes the digest of a scenario with random draws."""
    scenario = load(HERE / "mixed_layered.toml")
    n = MANIFEST["trials"]["mixed_layered"]
    assert digest(scenario, n, MANIFEST["seed"] + 1) != MANIFEST["digests"]["mixed_layered"]
