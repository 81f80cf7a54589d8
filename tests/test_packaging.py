"""The wheel carries every subpackage and the bundled data, and works from elsewhere.

setuptools drops an unlisted subpackage silently, and package data that is not declared
never reaches the wheel; an editable install hides both problems. So this test builds a
real wheel from the source tree, checks its contents, installs it into a scratch folder
and loads a bundled scenario from an unrelated working directory.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = [
    "costx/__init__.py",
    "costx/__main__.py",
    "costx/cli.py",
    "costx/scenario.py",
    "costx/simulation.py",
    "costx/kernels/__init__.py",
    "costx/kernels/_jit.py",
    "costx/kernels/_stamp.py",
    "costx/kernels/engagement.py",
    "costx/kernels/damage.py",
    "costx/kernels/laser.py",
    "costx/kernels/rng.py",
    "costx/data/__init__.py",
    "costx/data/scenarios/ddg_mixed_raid.toml",
    "costx/data/sweeps/ddg_magazine_laser.toml",
    "costx/data/catalog/effectors.toml",
    "costx/data/catalog/threats.toml",
    "costx/data/catalog/assets.toml",
    "costx/data/catalog/sources.toml",
    "costx/data/catalog/price_index.toml",
    "costx/catalog.py",
    "costx/output.py",
    "costx/resolved.py",
    "costx/notebook.py",
    "costx/py.typed",  # PEP 561: type checkers use the package's annotations
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("needs the source tree")
    out = tmp_path_factory.mktemp("wheel")
    # Build from a fresh copy: setuptools reuses a build/ folder left in a source tree,
    # which would hide a package dropped from the configuration.
    source = tmp_path_factory.mktemp("src") / "costx"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "build", "*.egg-info", ".venv*", "__pycache__", ".*_cache", ".hypothesis"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(out)],
        check=True,
        cwd=source,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )  # fmt: skip
    (found,) = out.glob("costx-*.whl")
    return found


def test_wheel_contains_every_subpackage_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in EXPECTED if n not in names]
    assert not missing, f"missing from the wheel: {missing}"
    bundled = sorted(p.name for p in (ROOT / "data" / "scenarios").glob("*.toml"))
    in_wheel = sorted(
        Path(n).name for n in names if n.startswith("costx/data/scenarios/") and n.endswith(".toml")
    )
    assert in_wheel == bundled
    sweeps = sorted(p.name for p in (ROOT / "data" / "sweeps").glob("*.toml"))
    assert sweeps == sorted(
        Path(n).name for n in names if n.startswith("costx/data/sweeps/") and n.endswith(".toml")
    )
    assert not any(n.startswith(("kernels/", "src/", "data/", "tests/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "costx = costx.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_loads_bundled_scenarios_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import costx, costx.kernels, sys\n"
        "assert costx.__file__.startswith(sys.argv[1]), costx.__file__\n"
        "assert costx.kernels.__file__.startswith(sys.argv[1]), costx.kernels.__file__\n"
        "s = costx.load_scenario('ddg_mixed_raid')\n"
        "print(s.name, len(s.threats))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ddg_mixed_raid", "3"]
    listed = subprocess.run(
        [sys.executable, "-m", "costx", "scenarios"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    assert "ddg_mixed_raid" in listed.stdout


def test_an_edited_kernel_source_makes_every_kernel_compile_again(tmp_path):
    """Numba's cache would keep kernels compiled against an older rng.py or laser.py; the
    stamp next to the cache (kernels/_stamp.py) makes them compile again. A changed stamp
    stands in for an edited source here (the installed sources are not ours to edit)."""
    script = (
        "import numpy as np\n"
        "from costx.kernels.rng import sum_uniforms\n"
        "sum_uniforms(np.uint64(1), 10)\n"
        "print(sum(sum_uniforms.stats.cache_hits.values()))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}

    def cache_hits() -> int:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True)  # fmt: skip
        return int(out.stdout.split()[-1])

    assert cache_hits() == 0  # compiled and cached
    assert cache_hits() == 1  # loaded from the cache
    (stamp,) = tmp_path.rglob("costx-kernels.sha256")
    from costx.kernels._stamp import source_digest

    assert stamp.read_text().strip() == source_digest()
    stamp.write_text("digest of an older source\n")
    assert cache_hits() == 0  # compiled again
    assert stamp.read_text().strip() == source_digest()
    assert cache_hits() == 1
