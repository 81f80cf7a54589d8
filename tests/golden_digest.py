"""Digests of per-trial kernel outputs, to prove that a change leaves old results alone.

``tests/golden/*.toml`` are scenarios written out fully resolved (every catalog value
inlined, so later catalog changes cannot move them) and ``tests/golden/digests.json`` holds,
for each, the SHA-256 of its raw per-trial outputs (leakers, shots, kills, laser
availability, rounds left and, with a base, the damage arrays) for a fixed seed and number
of trials, computed before the directed-energy and railgun physics of issue 14 existed.
tests/test_golden.py recomputes them: with none of the new fields in a file, every trial
must come out bit for bit as it did then.

Regenerate (only when a change of results is intended and explained in the commit):

    python tests/golden_digest.py write
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import tomli_w

import costx
from costx.simulation import Lowered

HERE = Path(__file__).parent / "golden"
SEED = 20_260_514
ARRAYS = ("leaked", "shots", "kills", "avail", "rounds_end", "destroyed", "site_destroyed",
          "closed_min")  # fmt: skip


def digest(scenario, trials: int, seed: int = SEED) -> str:
    """SHA-256 of the raw kernel outputs of ``trials`` trials, array by array."""
    raw = Lowered(scenario).run(0, trials, seed)
    h = hashlib.sha256()
    for name in ARRAYS:
        a = getattr(raw, name)
        if a is None:
            continue
        h.update(name.encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def load(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return costx.load_scenario(path)


def cases() -> dict[str, int]:
    """Case name -> trials, from the manifest."""
    return json.loads((HERE / "digests.json").read_text())["trials"]


def _write() -> None:  # pragma: no cover - run by hand
    from costx import bundled

    sys.path.insert(0, str(Path(__file__).parent))
    import test_kernel_reference as tkr
    from scenarios import mixed

    scenarios = {}
    for name in bundled.scenario_names():
        scenarios[name] = (costx.load_scenario(name), 2_000)
    scenarios["mixed_layered"] = (costx.load_scenario(mixed("layered")), 4_000)
    scenarios["mixed_cost_aware"] = (costx.load_scenario(mixed("cost_aware")), 4_000)
    makers = {
        "random": tkr.random_scenario,
        "laser_heavy": tkr.laser_heavy_scenario,
        "cost_aware": tkr.cost_aware_scenario,
        "cost_aware_laser": tkr.cost_aware_laser_scenario,
    }
    for label, make in makers.items():
        kept = 0
        s = 0
        while kept < 6:
            s += 1
            scenario, warned = tkr.load_quiet(make(random.Random(5_000 + s)))
            if warned:
                continue
            scenarios[f"{label}_{s}"] = (scenario, 500)
            kept += 1
    trials, digests = {}, {}
    for name, (scenario, n) in scenarios.items():
        data = scenario.to_dict()
        assets = data.get("base", {}).get("assets", [])
        items = [*data["threats"], *data.get("effectors", []), *assets]
        for item in items:  # every value is inlined: no catalog entry may fill in new fields
            item.pop("use", None)
        (HERE / f"{name}.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
        trials[name] = n
        digests[name] = digest(load(HERE / f"{name}.toml"), n)
    manifest = {"seed": SEED, "trials": trials, "digests": digests}
    (HERE / "digests.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["write"]:
        _write()
