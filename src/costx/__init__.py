"""costx: what missile defense really costs.

Describe a raid and a defense in a scenario file, simulate the engagements in Numba
Monte Carlo kernels, and read cost per kill, cost-exchange ratios and leakers.

>>> import costx
>>> scenario = costx.load_scenario("ddg_mixed_raid")
>>> result = costx.simulate(scenario, trials=10_000, seed=1)
>>> result.summary()  # doctest: +SKIP
"""

from costx._version import version as _installed_version
from costx.errors import CostxError, InputError, ScenarioError
from costx.scenario import CostxWarning, Scenario, load_scenario

__all__ = [
    "AnalysisResult",
    "CostxError",
    "CostxWarning",
    "InputError",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SweepResult",
    "__version__",
    "break_even",
    "cheapest",
    "dwell_time",
    "load_scenario",
    "marginal_exchange",
    "read_analysis",
    "read_result",
    "read_sweep",
    "sensitivity",
    "simulate",
    "sweep",
    "worst_raid",
]

# Decision analyses (costx.analysis), loaded on first use like the simulation API.
_ANALYSIS = ("marginal_exchange", "break_even", "cheapest", "worst_raid", "sensitivity",
             "AnalysisResult", "read_analysis")  # fmt: skip


def __getattr__(name):
    # Lazy, for start-up time: the simulation API imports Numba, pandas and pyarrow; load
    # it on first use so that `import costx`, `costx validate` and `costx --help` start fast.
    if name in ("simulate", "SimulationResult"):
        from costx import simulation

        return getattr(simulation, name)
    if name in ("sweep", "SweepResult", "read_sweep"):
        from costx import sweeps

        return getattr(sweeps, name)
    if name in _ANALYSIS:
        from costx import analysis

        return getattr(analysis, name)
    if name == "dwell_time":
        from costx.dwell import dwell_time

        return dwell_time
    if name == "__version__":  # read on first use (importlib.metadata: start-up time)
        return _installed_version()
    if name == "read_result":
        from costx.reading import read_result

        return read_result
    raise AttributeError(f"module 'costx' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazily loaded names too (simulate, sweep, read_sweep, read_result...), for
    # dir(costx) and tab completion.
    hidden = {"_installed_version"}  # imported for __version__ only
    return sorted((set(globals()) - hidden) | set(__all__))
