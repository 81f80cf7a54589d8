"""Where a workload's time goes, by Numba function and by instruction, with Linux ``perf``.

    python benchmarks/perf_profile.py "mixed_raid[cost_aware]" 20000
    python benchmarks/perf_profile.py "drone_raid[layered, 256 threats]" 6000 --annotate _run_trials

``perf`` alone shows a JIT-compiled kernel as bare addresses. This script runs the workload
(``costx.bench.WORKLOADS``; one thread unless ``--threads``) in its own process, compiling
every kernel into a fresh Numba cache (a kernel loaded from the cache has no module left to
name its functions), writes ``/tmp/perf-<pid>.map`` (the map ``perf report`` reads for
code it cannot find in a file: each function's address from Numba's code library, its
size up to the next one), then times the workload under ``perf record`` and prints the
functions with the most samples. ``--annotate NAME`` also prints the disassembly (``objdump``)
of the compiled function of that name with the most samples, each instruction with its
share of them, in windows of the hottest code: a sample lands on the instruction after the
one it waited for (a load, a division). A function's size is taken to reach the next
function's address (Numba's library gives addresses, not sizes), so a few samples of code
between functions can be credited to the one before. Needs ``perf`` (linux-tools) and
binutils; nothing here is part of costx or its tests. docs/performance.md has what it
found.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", help='a costx.bench workload id, e.g. "mixed_raid[layered]"')
    p.add_argument("trials", type=int)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--warm",
        type=int,
        help="trials run first, to compile (default: as many "
        "as timed, so that the graph's replay and learning compile too)",
    )
    p.add_argument("--annotate", metavar="NAME", help="disassemble the function of this name")
    p.add_argument("--top", type=int, default=12, help="functions listed")
    return p.parse_args()


def _functions() -> dict[int, str]:
    """{address: symbol} of every function Numba compiled for the kernels so far."""
    import costx.kernels.damage
    import costx.kernels.engagement
    import costx.kernels.laser
    import costx.kernels.memo
    import costx.kernels.rng

    found = {}
    for mod in (
        costx.kernels.engagement, costx.kernels.memo, costx.kernels.rng,
        costx.kernels.laser, costx.kernels.damage,
    ):  # fmt: skip
        for name in dir(mod):
            dispatcher = getattr(mod, name)
            for cres in getattr(dispatcher, "overloads", {}).values():
                library = cres.library
                for fn in library._final_module.functions:  # Numba's internals
                    if fn.is_declaration:
                        continue
                    address = library.get_pointer_to_function(fn.name)
                    if address:
                        found[address] = fn.name
    return found


def _short(symbol: str) -> str:
    """A readable name: the Python name inside Numba's mangled symbol."""
    for part in ("engagement", "memo", "rng", "laser", "damage"):
        key = f"kernels{len(part)}{part}"
        if key in symbol:
            rest = symbol.split(key, 1)[1]
            digits = re.match(r"\d+", rest)
            name = rest[digits.end() : digits.end() + int(digits[0])] if digits else rest[:30]
            prefix = "cpython." if symbol.startswith("_ZN7cpython") else ""  # wrappers
            prefix = "cfunc." if symbol.startswith("cfunc.") else prefix
            return f"{prefix}{part}.{name}"
    return symbol[:60]


def _read_code(address: int, size: int) -> bytes:
    """The bytes of code at ``address``, up to ``size`` or the end of its mapped memory
    (read through /proc/self/mem, which fails on an unmapped page instead of crashing)."""
    page = 4096
    chunks = []
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        at = address
        while at < address + size:
            n = min(page - at % page, address + size - at)
            try:
                mem.seek(at)
                chunk = mem.read(n)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            at += len(chunk)
    return b"".join(chunks)


def _annotate(perf_data: str, name: str, spans: list[tuple[int, int, str]]) -> None:
    """Disassembly of the first function whose symbol contains ``name``, with samples."""
    script = subprocess.run(
        ["perf", "script", "-i", perf_data, "-F", "ip,sym"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    samples: dict[str, int] = {}
    for line in script.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            samples[fields[1]] = samples.get(fields[1], 0) + 1
    matching = [(a, n, s) for a, n, s in spans if _short(s).split(".", 1)[-1] == name]
    if not matching:
        print(f"no compiled function is named {name!r}")
        return
    address, size, symbol = max(matching, key=lambda span: samples.get(span[2], 0))
    code = _read_code(address, size)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        asm = subprocess.run(
            ["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", f"--adjust-vma={address:#x}",
             f.name], capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    counts: dict[int, int] = {}
    for line in script.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == symbol:
            ip = int(fields[0], 16)
            counts[ip] = counts.get(ip, 0) + 1
    total = sum(counts.values()) or 1
    rows = []
    for line in asm.splitlines():
        head = line.split(":", 1)[0].strip()
        try:
            ip = int(head, 16)
        except ValueError:
            continue
        rows.append((100.0 * counts.get(ip, 0) / total, line))
    print(f"\n{_short(symbol)}: {total} samples; its hottest windows of 40 instructions")
    windows = sorted(
        ((sum(r[0] for r in rows[i : i + 40]), i) for i in range(0, len(rows), 40)), reverse=True
    )[:4]
    for share, i in windows:
        print(f"\n--- {share:.1f} % of the function's samples")
        for pct, line in rows[i : i + 40]:
            print(f"{pct:6.2f} {line}")


def main() -> int:
    args = _parse()
    if shutil.which("perf") is None:
        print("perf is not installed (apt install linux-tools-generic or linux-perf)")
        return 2
    if "NUMBA_CACHE_DIR" not in os.environ:  # compile here, so that the modules exist
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="costx-perf-")
    import numba

    from costx import bench
    from costx.simulation import simulate

    numba.set_num_threads(args.threads)
    scenario = bench.workload(args.workload).scenario()
    warm = args.trials if args.warm is None else args.warm
    simulate(scenario, trials=warm, seed=0, threads=args.threads, keep_trials=False)
    functions = _functions()
    if not functions:
        print("no compiled functions found: NUMBA_CACHE_DIR must be a fresh, empty folder")
        return 2
    addresses = sorted(functions)
    spans = [
        (a, min(addresses[i + 1] - a if i + 1 < len(addresses) else 1 << 16, 1 << 20),
         functions[a])
        for i, a in enumerate(addresses)
    ]  # fmt: skip
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as f:
        for address, size, symbol in spans:
            f.write(f"{address:x} {size:x} {symbol}\n")
    perf_data = os.path.join(tempfile.mkdtemp(prefix="costx-perf-"), "perf.data")
    recorder = subprocess.Popen(
        ["perf", "record", "-F", "1999", "-o", perf_data, "-p", str(os.getpid())],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    time.sleep(1.0)  # perf attaches
    if recorder.poll() is not None:  # it could not (perf_event_paranoid, no perf support)
        print(f"perf record failed: {recorder.stderr.read().strip()}")
        return 2
    start = time.perf_counter()
    simulate(scenario, trials=args.trials, seed=0, threads=args.threads, keep_trials=False)
    seconds = time.perf_counter() - start
    recorder.send_signal(2)
    _, errors = recorder.communicate()
    if recorder.returncode not in (0, -2, 130) or not os.path.exists(perf_data):
        print(f"perf record failed ({recorder.returncode}): {errors.strip()}")
        return 2
    print(f"{args.workload}: {args.trials:,} trials in {seconds:.3f} s "
          f"({args.trials / seconds:,.0f} trials/s, {args.threads} thread(s))")  # fmt: skip
    report = subprocess.run(
        ["perf", "report", "-i", perf_data, "--no-children", "--sort", "sym", "-q"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    for line in report.splitlines()[: args.top]:
        share, _, symbol = line.strip().partition(" ")
        symbol = symbol.strip().split("] ", 1)[-1]  # after "[.]" (user) or "[k]" (kernel)
        print(f"{share.strip():>8}  {_short(symbol.strip())}")
    if args.annotate:
        _annotate(perf_data, args.annotate, spans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
