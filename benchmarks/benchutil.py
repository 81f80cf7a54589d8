"""Shared helper of the benchmark suite."""


def run(benchmark, fn, *args, rounds=3, **kwargs):
    """Time ``fn`` with pytest-benchmark after one untimed warm-up call (compilation)."""
    fn(*args, **kwargs)
    return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=rounds, iterations=1)
