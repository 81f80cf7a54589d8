"""Turn pytest-benchmark JSON into the README's speed table.

    pytest benchmarks --benchmark-enable --benchmark-json=bench.json
    python benchmarks/report.py bench.json [--readme README.md]

Prints a Markdown table (machine, date, versions, trials per second, and the ratios the
performance targets are stated in) and, with --readme, replaces the part of the README
between the markers ``<!-- bench:start -->`` and ``<!-- bench:end -->``; the decision
analyses (benchmarks/test_analysis.py: wall time and trials simulated of one whole
analysis each) go between ``<!-- bench-analyses:start -->`` and
``<!-- bench-analyses:end -->``. ``--only analyses`` updates only that part; a JSON with
nothing but the analyses (``pytest benchmarks/test_analysis.py --benchmark-enable ...``)
updates only that part too, so that it does not empty the speed table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
ANALYSES_START, ANALYSES_END = "<!-- bench-analyses:start -->", "<!-- bench-analyses:end -->"


def _rows(data: dict) -> dict[str, dict]:
    out = {}
    for b in data["benchmarks"]:
        stats, info = b["stats"], b.get("extra_info", {})
        out[b["name"]] = {
            "seconds": stats["min"],
            "trials": info.get("trials"),
            "info": info,
        }
    return out


def _workloads(rows: dict) -> dict[tuple[str, str], dict]:
    """The registry's workloads (test_workload) by (workload, variant)."""
    return {
        (r["info"]["workload"], r["info"]["variant"]): r
        for r in rows.values()
        if "workload" in r["info"]
    }


def _per_threat(row) -> float | None:
    """Seconds per trial and threat."""
    if row is None or not row["trials"]:
        return None
    return row["seconds"] / row["trials"] / row["info"]["threats"]


def _rate(row) -> float | None:
    if row is None or not row["trials"]:
        return None
    return row["trials"] / row["seconds"]


def _measured(data: dict, how: str) -> str:
    machine = data.get("machine_info", {})
    versions = data.get("commit_info", {})
    cpu = machine.get("cpu", {})
    libs = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
    # The brand alone ("AMD EPYC") hides which generation: family 26 (Zen 5) ran layered
    # twice as fast as the EPYC of the tables before it and cost_aware 1.2 times.
    family = "".join(f"{k} {cpu[k]}, " for k in ("family", "model") if k in cpu)
    return (
        f"Measured {data.get('datetime', '?')[:19]} on {cpu.get('brand_raw', '?')}"
        f" ({family}{cpu.get('count', '?')} cores), Python "
        f"{machine.get('python_version', '?')}{', ' + libs if libs else ''}, commit "
        f"{versions.get('id', '?')[:10]}; {how}."
    )


def analyses_table(data: dict) -> str:
    """The decision analyses: one whole analysis each, its wall time and the trials it
    simulated (empty when the run has none)."""
    rows = [r for r in _rows(data).values() if "analysis" in r["info"]]
    if not rows:
        return ""
    lines = [
        "Decision analyses (`costx analyze`, benchmarks/test_analysis.py), one whole "
        "analysis each. " + _measured(data, "one timed run each"),
        "",
        "| analysis | scenario | trials per evaluation | trials simulated | wall time |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        info = r["info"]
        lines.append(
            f"| {info['analysis']} | {info['scenario']} | "
            f"{info.get('trials_per_evaluation', 0):,} | {r['trials']:,} | "
            f"{r['seconds']:.1f} s |"
        )
    return "\n".join(lines)


def table(data: dict) -> str:
    rows = _rows(data)
    lines = [
        _measured(data, "best of the timed rounds"),
        "",
        "| workload | variant | trials/s |",
        "|---|---|---:|",
    ]
    for name, row in rows.items():
        rate = _rate(row)
        if rate is None or "peak_mb" in row["info"]:  # memory checks: in the targets below
            continue
        if "analysis" in row["info"]:  # decision analyses: their own table below
            continue
        if "workload" in row["info"]:
            workload, variant = row["info"]["workload"], row["info"]["variant"]
        else:
            workload, _, variant = name.removeprefix("test_").partition("[")
            variant = variant.rstrip("]") or "-"
        lines.append(f"| {workload} | {variant} | {rate:,.0f} |")
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]

    def ratio_line(label, value, target, fmt="{:.2f}x"):
        if value is None:
            return
        met = "yes" if value >= target else "no"
        lines.append(f"| {label} (target >= {fmt.format(target)}) | {fmt.format(value)} | {met} |")

    wl = _workloads(rows)
    k1 = _rate(wl.get(("single_layer", "1 thread")))
    k2 = _rate(wl.get(("single_layer", "all threads")))
    npy = _rate(rows.get("test_single_layer_numpy"))
    py = _rate(rows.get("test_single_layer_python"))
    best = k2 or k1
    ratio_line("single_layer kernel / NumPy reference", best / npy if best and npy else None, 3)
    ratio_line("single_layer kernel / pure Python", best / py if best and py else None, 50)
    ratio_line("single_layer 2 threads / 1 thread", k2 / k1 if k1 and k2 else None, 1.8)
    paired = rows.get("test_single_layer_paired")
    if paired and "kernel_over_numpy_median" in paired["info"]:
        # The same two ratios from rounds that time both sides seconds apart
        # (test_single_layer_paired): the median, and the range of the rounds.
        info = paired["info"]
        for label, key, target in (
            ("single_layer kernel / NumPy reference", "kernel_over_numpy", 3),
            ("single_layer 2 threads / 1 thread", "threads_gain", 1.8),
        ):
            value, each = info[f"{key}_median"], info[key]
            lines.append(
                f"| {label}, median of {len(each)} paired rounds, {min(each):.2f}x to "
                f"{max(each):.2f}x (target >= {target:.2f}x) | {value:.2f}x | "
                f"{'yes' if value >= target else 'no'} |"
            )
    floor = rows.get("test_rng_floor")
    kernel = wl.get(("single_layer", "1 thread"))
    if floor and kernel:
        ns = floor["seconds"] / floor["info"]["draws"] * 1e9
        per_trial = kernel["seconds"] / kernel["trials"]
        draws = kernel["info"].get("draws_per_trial", float("nan"))
        over = per_trial / (draws * ns * 1e-9)
        lines.append(
            f"| kernel time / (draws x {ns:.2f} ns per draw), 1 thread (target <= 3) | "
            f"{over:.1f} | {'yes' if over <= 3 else 'no'} |"
        )
    mixed = _rate(wl.get(("mixed_raid", "layered")))
    if mixed:
        lines.append(
            f"| mixed_raid layered, all threads (target >= 100,000 trials/s) | {mixed:,.0f} | "
            f"{'yes' if mixed >= 100_000 else 'no'} |"
        )

    def at_most(label, value, target):
        if value is not None:
            lines.append(f"| {label} (target <= {target}) | {value:.2f} | "
                         f"{'yes' if value <= target else 'no'} |")  # fmt: skip

    def slower(a, b):
        ra, rb = _rate(wl.get(a)), _rate(wl.get(b))
        return rb / ra if ra and rb else None

    at_most("mixed_raid: cost_aware time / layered time", slower(
        ("mixed_raid", "cost_aware"), ("mixed_raid", "layered")), 2)  # fmt: skip
    big = ("drone_raid", "cost_aware, 256 threats"), ("drone_raid", "layered, 256 threats")
    at_most("drone_raid, 256 threats: cost_aware time / layered time", slower(*big), 3)
    paired = rows.get("test_policy_ratios_paired")
    if paired:
        # The same two ratios from rounds that time both policies one straight after the
        # other (test_policy_ratios_paired): the median, and the range of the rounds.
        for label, key, target in (
            ("mixed_raid: cost_aware time / layered time", "mixed_raid", 2),
            ("drone_raid, 256 threats: cost_aware time / layered time", "drone_raid_256", 3),
        ):
            each = paired["info"].get(f"cost_aware_over_layered_{key}")
            if each:
                value = paired["info"][f"cost_aware_over_layered_{key}_median"]
                lines.append(
                    f"| {label}, median of {len(each)} paired rounds, {min(each):.2f} to "
                    f"{max(each):.2f} (target <= {target}) | {value:.2f} | "
                    f"{'yes' if value <= target else 'no'} |"
                )
    april = _per_threat(wl.get(("iran_israel_apr2024", "layered")))
    ddg = _per_threat(wl.get(("mixed_raid", "preferential")))  # as bundled
    at_most("iran_israel_apr2024 time per threat / ddg_mixed_raid's",
            april / ddg if april and ddg else None, 2)  # fmt: skip
    warm = rows.get("test_startup_warm")
    cold = rows.get("test_startup_cold")
    if warm:
        lines.append(
            f"| start-up, warm cache, 10k trials (target < 2 s) | {warm['seconds']:.2f} s | "
            f"{'yes' if warm['seconds'] < 2 else 'no'} |"
        )
    if cold:
        lines.append(
            f"| start-up, cold cache (compilation), 10k trials (target < 30 s) | "
            f"{cold['seconds']:.1f} s | {'yes' if cold['seconds'] < 30 else 'no'} |"
        )
    memory = rows.get("test_summary_only_memory")
    if memory and "peak_mb" in memory["info"]:
        peak, n = memory["info"]["peak_mb"], memory["info"]["trials"]
        lines.append(
            f"| peak memory, mixed_raid summary-only, {n:,} trials (target < 500 MB) | "
            f"{peak:.0f} MB | {'yes' if peak < 500 else 'no'} |"
        )
    kept = rows.get("test_kept_tables_memory")
    if kept and "extra_mb" in kept["info"]:
        info = kept["info"]
        per_trial = info["extra_mb"] * 2**20 / info["trials"]
        lines.append(
            f"| memory beyond the tables, pacific_airbase with tables, {info['trials']:,} trials "
            f"(a few hundred MB at 10M) | {info['extra_mb']:.0f} MB ({per_trial:.0f} B/trial) | "
            f"{'yes' if per_trial * 1e7 / 2**20 < 1000 else 'no'} |"
        )
    scaling = [(r["info"]["threats"], r["info"]["threads"], r["seconds"] / r["trials"])
               for n, r in rows.items() if n.startswith("test_scaling_threats")]  # fmt: skip
    if scaling:
        lines += ["", "Cost per trial against threats (magazine 1.5 rounds per threat):", ""]
        lines += ["| threats | threads | us per trial | us per threat |", "|---:|---:|---:|---:|"]
        for threats, threads, per_trial in sorted(scaling):
            lines.append(
                f"| {threats} | {threads} | {per_trial * 1e6:.1f} | "
                f"{per_trial * 1e6 / threats:.3f} |"
            )
    policy_scaling = [
        (variant.split(",")[0], r["info"]["threats"], r["seconds"] / r["trials"])
        for (workload, variant), r in wl.items()
        if workload == "drone_raid"
    ]
    if policy_scaling:
        title = (
            "Cost per trial against threats per policy (drone_raid: laser, gun and "
            "interceptor against drones at a constant density, all threads):"
        )
        lines += ["", title, ""]
        lines += ["| policy | threats | us per trial | us per threat |", "|---|---:|---:|---:|"]
        for policy, threats, per_trial in sorted(policy_scaling):
            lines.append(
                f"| {policy} | {threats} | {per_trial * 1e6:.1f} | "
                f"{per_trial * 1e6 / threats:.3f} |"
            )
    return "\n".join(lines)


def _replace(readme: str, start: str, end: str, text: str) -> str | None:
    if start not in readme or end not in readme:
        return None
    return re.sub(
        re.escape(start) + ".*?" + re.escape(end),
        lambda _: f"{start}\n{text}\n{end}",
        readme,
        flags=re.S,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path)
    parser.add_argument("--readme", type=Path, default=None)
    parser.add_argument("--only", choices=["analyses"], default=None,
                        help="print and update only the decision analyses")  # fmt: skip
    args = parser.parse_args(argv)
    data = json.loads(args.json.read_text())
    # A run of the analyses alone leaves the speed table as it is (it has no rows for it)
    speed = any("analysis" not in r["info"] for r in _rows(data).values())
    parts = [(START, END, table(data))] if speed and not args.only else []
    analyses = analyses_table(data)
    if analyses:
        parts.append((ANALYSES_START, ANALYSES_END, analyses))
    print("\n\n".join(text for _, _, text in parts))
    if args.readme:
        readme = args.readme.read_text()
        for start, end, text in parts:
            new = _replace(readme, start, end, text)
            if new is None:
                print(f"{args.readme}: no {start} ... {end} markers", file=sys.stderr)
                return 2
            readme = new
        args.readme.write_text(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
