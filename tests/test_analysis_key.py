"""An analysis simulates two scenarios once when their ``kernel_key`` is the same, so the
key must change with everything the kernels read: here, every number of two bundled
scenarios (one with a ship, one with a base) is changed in turn, and where the trials
change, the key must change too.

The ship's arrays were left out of the key: ``costx analyze cheapest ddg_mixed_raid
--choice ship.hits_to_kill=1,2,4`` gave three identical postures, and the sensitivity
analysis a swing of $0 for hits_to_kill (an audit that followed the README found it).
"""

from __future__ import annotations

import numpy as np
import pytest

import costx
from costx import analysis
from costx.aggregate import trial_integers
from costx.errors import ScenarioError
from costx.simulation import Lowered


def _numbers(node, path=""):
    """(path, value) of every number in a scenario's data, list items by name."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, f"{path}{key}.")
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict) and "name" in item:
                yield from _numbers(item, f"{path}{item['name']}.")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path[:-1], node


def _changed(data, path, value):
    """A copy of ``data`` with the number at ``path`` (list items by name) replaced."""
    import copy

    data = copy.deepcopy(data)
    node = data
    *parts, last = path.split(".")
    for part in parts:
        node = (
            next(x for x in node if x.get("name") == part) if isinstance(node, list) else node[part]
        )
    node[last] = value
    return data


def _other(value):
    """Another valid-looking value: probabilities and shares halved, others changed."""
    if isinstance(value, int):
        return value + 1
    if 0.0 < value <= 1.0:
        return value / 2
    return value * 1.5 if value else 0.5


def _trials(scenario):
    plan = Lowered(scenario)
    return trial_integers(scenario, plan.run(0, 200, 7))


@pytest.mark.parametrize("name", ["ddg_mixed_raid", "pacific_airbase"])
def test_a_change_that_changes_the_trials_changes_the_kernel_key(name):
    base = costx.load_scenario(name)
    data = base.to_dict()
    key, trials = analysis.kernel_key(base), _trials(base)
    checked = moved = 0
    for path, value in _numbers(data):
        if path.startswith("scenario."):
            continue
        try:
            changed = costx.load_scenario(_changed(data, path, _other(value)))
        except ScenarioError:
            continue  # outside the field's range, or breaks a cross-field rule
        checked += 1
        other = _trials(changed)
        same_trials = other.keys() == trials.keys() and all(
            np.array_equal(other[k], trials[k]) for k in trials
        )
        if not same_trials:
            moved += 1
            assert analysis.kernel_key(changed) != key, path
    # Enough numbers were changed, and enough of them moved the trials, for the test to
    # mean something (counts when written: ddg_mixed_raid 94 and 62, pacific_airbase 89
    # and 59).
    assert checked > 80 and moved > 40
