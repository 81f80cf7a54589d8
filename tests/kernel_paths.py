"""Every kernel path, run by the tests that check the compiled kernels in a fresh process
(tests/test_kernels_borrow.py, tests/test_kernels_boundscheck.py)."""

import hashlib

import numpy as np

from costx import bench, load_scenario
from costx.aggregate import RawTrials
from costx.simulation import Lowered, numba_threads


def every_path() -> str:
    """Run the engine (three policies, lasers, a railgun), the graph of recurring states
    (recording and replaying), the air base and the ship damage kernels; return a digest
    of all their outputs."""
    digest = hashlib.sha256()

    def keep(raw: RawTrials) -> None:
        for name in RawTrials.FIELDS:
            a = getattr(raw, name)
            if a is not None:
                digest.update(name.encode())
                digest.update(np.ascontiguousarray(a).tobytes())

    with numba_threads(2):
        for policy in ("layered", "preferential", "cost_aware"):
            keep(Lowered(bench.drone_raid(12, policy), memo=False).run(0, 600, 5))
        for name in ("ddg_mixed_raid", "pacific_airbase_hvp_laser"):
            keep(Lowered(load_scenario(name), memo=False).run(0, 600, 5))
        memo = Lowered(bench.single_layer(16), memo=True)
        assert memo.memo is not None
        for k in range(3):
            keep(memo.run(k * 2_000, 2_000, 5))
    return digest.hexdigest()
