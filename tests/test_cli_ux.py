"""What a new user reads in the terminal: no silently cut table, no mean printed outside
its own interval, units on money, names spelled out, prose at 80 columns in a pipe."""

import io
import random

import pandas as pd
import pytest
import tomli_w
from rich.console import Console
from scenarios import mixed

import costx
from costx import formatting
from costx.cli import (
    MAX_ANALYSIS_ROWS,
    SHOT_COST_NOTE,
    _mean_interval,
    _mean_text,
    main,
    summary_rich_table,
)


def _write(tmp_path, data, name="s.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _number(text: str) -> float:
    """A printed value back as a number: ``$2.65M``, ``41.2 %``, ``1,579``, ``+4.0 pp``."""
    text = text.strip().replace(",", "").replace(" %", "").replace(" pp", "").replace("$", "")
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
    if text[-1] in scale:
        return float(text[:-1]) * scale[text[-1]]
    return float(text)


# -- 1. an analysis table cut at MAX_ANALYSIS_ROWS says so ----------------------------------


def test_a_long_analysis_table_says_how_many_rows_it_leaves_out(tmp_path, capsys, monkeypatch):
    """cheapest over 64 points printed 40 rows and no word about the other 24."""
    monkeypatch.delenv("COLUMNS", raising=False)
    path, out = _write(tmp_path, mixed()), tmp_path / "c.parquet"
    choices = ["effectors.sm2.rounds=8,24", "effectors.las.units=0,1",
               "effectors.sm2.salvo_size=1,2", "effectors.hvp.rounds=50,100",
               "effectors.hvp.salvo_size=1,2", "effectors.sm2.max_engagements=1,2"]  # fmt: skip
    args = ["analyze", "cheapest", str(path), "--require", "leakers<=2", "--trials", "200",
            "--screen-trials", "100", "--out", str(out)]  # fmt: skip
    for choice in choices:
        args += ["--choice", choice]
    assert main(args) == 0
    printed = " ".join(capsys.readouterr().out.split())
    rows = len(pd.read_parquet(out))
    assert rows == 64 > MAX_ANALYSIS_ROWS
    assert f"… {rows - MAX_ANALYSIS_ROWS} more rows (every row in {out})" in printed


# -- 2. a mean lies within its printed interval ---------------------------------------------


def test_a_mean_gets_the_digits_of_its_interval():
    """The audit saw ``488  487.6 to 487.8`` and ``31.4  31.4 to 31.41``: the ends got
    more digits than the mean."""
    assert formatting.interval(487.6, 487.8, "") == "487.6 to 487.8"
    assert formatting.mean_text(487.7, 487.6, 487.8) == "487.7"
    assert formatting.estimate(487.7, 487.6, 487.8) == "487.7 (95 %: 487.6 to 487.8)"
    text = formatting.interval(31.396, 31.4049, "threats")
    assert text == "31.396 to 31.405"
    assert formatting.mean_text(31.4049, 31.396, 31.4049, "threats") == "31.405"
    assert formatting.interval(47.97, 48.0, "") == "47.97 to 48.00"  # same decimals
    assert formatting.mean_text(1.23455e-5, 1.23451e-5, 1.23459e-5) == "1.2346e-05"
    # where the usual rounding tells the ends apart the mean is written as always
    assert formatting.mean_text(0.605, 0.595, 0.615) == formatting.number(0.605)
    assert formatting.mean_text(3.1e7, 3.09e7, 3.11e7, "USD") == "$31.0M"


def test_a_mean_inside_its_interval_prints_inside_it():
    """Any mean, interval and unit (counts, money, probabilities, differences)."""
    rng = random.Random(7)
    for _ in range(20_000):
        centre = 10 ** rng.uniform(-6, 16) * rng.choice((1, -1))
        width = abs(centre) * 10 ** rng.uniform(-7, 0.5)
        low = centre - width * rng.random()
        high, mean = low + width, low + width * rng.random()
        unit, signed = rng.choice(("", "threats", "USD", "probability")), rng.random() < 0.3
        if unit == "probability":
            low, mean, high = sorted(v % 1 for v in (low, mean, high))
        span = formatting.interval(low, high, unit, signed=signed)
        if low == high or " to " not in span:
            continue
        a, b = span.split(" to ")
        shown = formatting.mean_text(mean, low, high, unit, signed)
        assert _number(a) <= _number(shown) <= _number(b), (low, mean, high, unit, shown, span)


def _summary(rows: dict) -> pd.DataFrame:
    return pd.DataFrame.from_dict(
        {
            name: {
                "mean": m,
                "ci95_low": lo,
                "ci95_high": hi,
                "std_error": (hi - lo) / 4,
                "unit": unit,
            }
            for name, (m, lo, hi, unit) in rows.items()
        },
        orient="index",
    )


def test_terminal_tables_print_a_mean_within_its_interval():
    """The run summary and the leakers per threat group (the audit's two rows)."""
    summary = _summary({
        "cost_exchange_total_over_attack": (487.7, 487.61, 487.79, "ratio"),
        "killed": (31.404, 31.396, 31.4049, "threats"),
        "leaked_drone": (0.0503, 0.0468, 0.0537, "threats"),
    })  # fmt: skip
    console = Console(width=80, file=io.StringIO())
    console.print(summary_rich_table(summary, "t", n=100))
    text = console.file.getvalue()
    lines = text.splitlines()
    for name, row in summary.iterrows():
        line = next(line for line in lines if line.startswith(name))
        mean, low, _, high = line.split()[1:5]
        assert _number(low) <= _number(mean) <= _number(high), line
        assert _mean_interval(summary, name, 100)[0] == mean == _mean_text(row)
    assert "487.7" in text


# -- 3, 4. units and names ------------------------------------------------------------------


def test_worst_raid_prints_the_attack_cost_in_dollars(tmp_path, capsys, monkeypatch):
    """``attack_cost_usd_raid`` read as a bare ``8,772,625``."""
    monkeypatch.delenv("COLUMNS", raising=False)
    path, out = _write(tmp_path, mixed()), tmp_path / "w.parquet"
    assert main(["analyze", "worst-raid", str(path), "--budget", "9e6", "--mix", "drone=0,20",
                 "--mix", "cruise=0,2", "--trials", "200", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    costs = pd.read_parquet(out)["attack_cost_usd_raid"].dropna()
    assert len(costs) and (costs > 1000).all()
    for cost in costs:
        assert formatting.usd(cost) in printed
        assert f"{cost:,.0f}" not in printed


def test_catalog_says_what_a_cost_is_per_and_has_no_empty_column(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["catalog", "effectors"]) == 0
    effectors = capsys.readouterr().out
    assert "cost per shot (USD, $ year)" in effectors and " kind " in effectors
    assert main(["catalog", "threats"]) == 0
    threats = capsys.readouterr().out
    assert "unit cost (USD, $ year)" in threats
    assert " kind " not in threats  # no threat has a kind: no empty column


@pytest.fixture(scope="module")
def run_text(tmp_path_factory):
    """``costx run ddg_mixed_raid --assumptions`` into a pipe (no COLUMNS): its text."""
    import contextlib
    import os

    out = tmp_path_factory.mktemp("run") / "r.parquet"
    old = os.environ.pop("COLUMNS", None)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            args = ["run", "ddg_mixed_raid", "--trials", "300", "--no-progress", "--out",
                    str(out), "--assumptions"]  # fmt: skip
            assert main(args) == 0
    finally:
        if old is not None:
            os.environ["COLUMNS"] = old
    return buffer.getvalue()


def test_run_spells_out_crf_and_says_capital_is_not_in_shot_cost_per_kill(run_text):
    text = run_text
    assert "acquisition x capital recovery factor (CRF) / raids a year" in text
    header = next(line for line in text.splitlines() if line.startswith("effector "))
    assert "shot cost per kill" in header
    lines = text.splitlines()
    assert lines[lines.index(next(line for line in lines if line.startswith("helios "))) + 1] == (
        SHOT_COST_NOTE
    )
    assert "cost_per_kill_total_usd" in SHOT_COST_NOTE


# -- 5. prose at 80 columns in a pipe -------------------------------------------------------


def test_run_prose_is_wrapped_at_80_columns_in_a_pipe(run_text):
    """The policy line and the assumptions were 132 characters wide in a pipe."""
    lines = [line.rstrip() for line in run_text.splitlines() if "wrote" not in line]
    assert max(map(len, lines)) <= 80, max(lines, key=len)
    assert "policy preferential: per threat group" in " ".join(run_text.split())
    assert "Assumptions: values no source gives" in run_text


def test_prose_follows_columns(tmp_path, capsys, monkeypatch):
    """With COLUMNS the prose is as wide as the caller asked."""
    monkeypatch.setenv("COLUMNS", "120")
    out = tmp_path / "r.parquet"
    assert main(["run", "ddg_mixed_raid", "--trials", "100", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    policy = next(line for line in printed.splitlines() if line.startswith("policy "))
    assert 80 < len(policy.rstrip()) <= 120
    assert costx.read_result(out).n_trials == 100


def test_report_and_notebook_print_a_mean_within_its_interval():
    """The HTML report's cells and summary, and the notebook card, wrote the mean as
    formatting.value rounds it (488) beside an interval of 487.6 to 487.8."""
    import pandas as pd

    from costx import notebook, report

    cell = report._value_cell(487.7, 487.64, 487.76, "ratio")
    assert cell.startswith("487.7<br>") and "487.6 to 487.8" in cell
    summary = pd.DataFrame(
        {"mean": [487.7], "ci95_low": [487.64], "ci95_high": [487.76],
         "std_error": [0.03], "unit": ["ratio"]},
        index=["cost_exchange_total_over_attack"],
    )  # fmt: skip
    (row,) = notebook._headline_rows(summary, 1000)
    assert row[1] == "487.7"
