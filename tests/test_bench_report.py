"""benchmarks/report.py: the README's speed table states the issue's single_layer ratios
both from each row's best round and from the paired rounds (test_single_layer_paired)."""

import json

import report  # benchmarks/report.py (pyproject: benchmarks on pytest's pythonpath)


def _bench(name, seconds, **info):
    return {"name": name, "stats": {"min": seconds}, "extra_info": info}


def _data(paired):
    single = {"workload": "single_layer", "threats": 64}
    return {
        "datetime": "2026-12-02T08:00:00",
        "benchmarks": [
            _bench("test_single_layer_numpy", 2.0, trials=1_000_000),
            _bench(
                "test_workload[single_layer[1 thread]]",
                1.0,
                trials=1_000_000,
                variant="1 thread",
                **single,
            ),
            _bench(
                "test_workload[single_layer[all threads]]",
                0.8,
                trials=1_000_000,
                variant="all threads",
                **single,
            ),
            _bench("test_single_layer_paired", 9.0, **paired),
        ],
    }


def _targets(text):
    return {
        line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:]
        for line in text.splitlines()
        if "target >=" in line
    }


def test_paired_medians_beside_the_best_of_rows():
    paired = {
        "paired_trials": 1_000_000,
        "kernel_over_numpy": [2.9, 3.4, 3.1, 3.6, 2.5],
        "kernel_over_numpy_median": 3.1,
        "threads_gain": [1.3, 1.9, 1.2, 1.4, 1.5],
        "threads_gain_median": 1.4,
    }
    targets = _targets(report.table(_data(paired)))
    # the best-of rows: 2.0 / 0.8 = 2.5x the script, 1.0 / 0.8 = 1.25 from two threads
    assert targets["single_layer kernel / NumPy reference (target >= 3.00x)"] == ["2.50x", "no |"]
    assert targets["single_layer 2 threads / 1 thread (target >= 1.80x)"] == ["1.25x", "no |"]
    got = targets[
        "single_layer kernel / NumPy reference, median of 5 paired rounds, 2.50x to 3.60x "
        "(target >= 3.00x)"
    ]
    assert got == ["3.10x", "yes |"]
    got = targets[
        "single_layer 2 threads / 1 thread, median of 5 paired rounds, 1.20x to 1.90x "
        "(target >= 1.80x)"
    ]
    assert got == ["1.40x", "no |"]
    # the paired benchmark is no workload: it adds no row of trials/s
    assert "single_layer_paired" not in report.table(_data(paired))


def test_no_paired_rounds_no_paired_rows():
    text = report.table(_data({}))
    assert "paired rounds" not in text
    assert "single_layer kernel / NumPy reference (target >= 3.00x) | 2.50x" in text


def test_paired_policy_ratios_beside_the_best_of_rows():
    def workload(variant, seconds):
        return _bench(f"test_workload[{variant}]", seconds, trials=10_000, threats=32,
                      workload="mixed_raid", variant=variant)  # fmt: skip

    data = {
        "benchmarks": [
            workload("layered", 0.1),
            workload("cost_aware", 0.9),
            _bench(
                "test_policy_ratios_paired",
                9.0,
                cost_aware_over_layered_mixed_raid=[7.5, 1.9, 1.5],
                cost_aware_over_layered_mixed_raid_median=1.9,
                cost_aware_over_layered_drone_raid_256=[4.0, 5.0, 3.5],
                cost_aware_over_layered_drone_raid_256_median=4.0,
            ),
        ],
    }
    text = report.table(data)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in text.splitlines()}
    assert rows["mixed_raid: cost_aware time / layered time (target <= 2)"] == ["9.00", "no |"]
    paired = "mixed_raid: cost_aware time / layered time, median of 3 paired rounds"
    assert rows[f"{paired}, 1.50 to 7.50 (target <= 2)"] == ["1.90", "yes |"]
    paired = "drone_raid, 256 threats: cost_aware time / layered time, median of 3 paired rounds"
    assert rows[f"{paired}, 3.50 to 5.00 (target <= 3)"] == ["4.00", "no |"]


def test_analyses_alone_leave_the_speed_table(tmp_path):
    """A JSON of the analyses alone updates their part of the README and leaves the speed
    table as it was (it once replaced it with an empty one)."""
    readme = tmp_path / "README.md"
    speed = f"{report.START}\nthe speed table\n{report.END}"
    analyses = f"{report.ANALYSES_START}\nold analyses\n{report.ANALYSES_END}"
    readme.write_text(f"{speed}\n\n{analyses}\n")
    info = {"analysis": "margin", "scenario": "ddg_drone_swarm", "trials_per_evaluation": 10}
    bench = {"name": "test_analysis_margin", "stats": {"min": 4.8},
             "extra_info": {**info, "trials": 150}}  # fmt: skip
    data = {"datetime": "2026-12-02T09:55:04", "benchmarks": [bench]}
    path = tmp_path / "an.json"
    path.write_text(json.dumps(data))
    assert report.main([str(path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert speed in text
    assert "| margin | ddg_drone_swarm | 10 | 150 | 4.8 s |" in text
    assert "old analyses" not in text


def test_the_header_names_the_processor_family():
    """Two machines both "AMD EPYC" differed by twice in layered's speed: the header says
    the family and model where pytest-benchmark recorded them."""
    data = _data({})
    data["machine_info"] = {"cpu": {"brand_raw": "AMD EPYC", "count": 2, "family": 26,
                                    "model": 2}}  # fmt: skip
    assert "on AMD EPYC (family 26, model 2, 2 cores)" in report._measured(data, "best")
    del data["machine_info"]["cpu"]["family"], data["machine_info"]["cpu"]["model"]
    assert "on AMD EPYC (2 cores)" in report._measured(data, "best")
