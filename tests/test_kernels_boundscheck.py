"""Every array index the kernels use is in bounds, on every kernel path
(tests/kernel_paths.py), checked by Numba itself (NUMBA_BOUNDSCHECK=1) in a fresh process
with an empty cache; and bounds checking changes no output.

Numba does not check indices by default: an index past the end reads or writes other
memory, and a negative one wraps around. The kernels also clear the sign bit of indices
known to be non-negative (``NONNEG``, kernels/_jit.py) so that the compiler can drop the
wrap-around: one applied to a negative value would become an index far out of bounds,
which this test reports as an IndexError instead of a crash or a wrong number. About a
minute, most of it compiling.
"""

import os
import subprocess
import sys
from pathlib import Path

from kernel_paths import every_path

_CHILD = """
import sys
sys.path.insert(0, TESTS)
from kernel_paths import every_path
print(every_path())
""".replace("TESTS", repr(str(Path(__file__).parent)))


def test_every_index_is_in_bounds_and_checking_changes_nothing(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), NUMBA_BOUNDSCHECK="1")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == every_path()
