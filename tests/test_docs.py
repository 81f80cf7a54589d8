"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


@pytest.mark.skipif(not (ROOT / ".ci" / "run").is_file(), reason="needs the source tree")
def test_ci_runs_exactly_the_readme_test_command():
    commands = _readme_commands()
    assert commands == ["pip install . && costx run", 'pip install ".[test]" && pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci


def test_the_readme_scenario_example_is_valid_and_runs():
    """The README's scenario file ("Your own scenario") loads and runs as shown."""
    import tomllib

    import costx

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own scenario", 1)[1].split("\n## ", 1)[0]
    (text,) = re.findall(r"```toml\n(.+?)\n```", section, re.S)
    scenario = costx.load_scenario(tomllib.loads(text))
    assert scenario.name == "my_ship" and scenario.scenario.dollar_year == 2025
    result = costx.simulate(scenario, trials=200, seed=1)
    assert result.summary().loc["leakers", "mean"] >= 0.0
