"""Benchmark sizes: small when pytest-benchmark is disabled (CI runs each benchmark once
as an ordinary test, to keep it correct), full for the timed run:

    pytest benchmarks --benchmark-enable --benchmark-json=bench.json
    python benchmarks/report.py bench.json   # the README's speed table
"""

import pytest


@pytest.fixture(scope="session")
def full(request) -> bool:
    """True in the timed run (benchmarks enabled), False in CI (run once, small)."""
    config = request.config
    # pytest-benchmark's own rule: disabled unless --benchmark-enable overrides the
    # --benchmark-disable of pyproject's addopts.
    disabled = config.getoption("benchmark_disable") and not config.getoption("benchmark_enable")
    return not disabled


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record the versions the numbers depend on (benchmarks/report.py prints them)."""
    import numba
    import numpy
    import pandas

    import costx

    machine_info["versions"] = {
        "costx": costx.__version__,
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "pandas": pandas.__version__,
    }
