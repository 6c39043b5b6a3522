"""Every benchmark, one after the other, then one table: each figure beside its anchor (measured
in the same run) or its target, and the ratio. Usage:

    .venv/bin/python bench/run_all.py [--quick] [--only gate,limiter,...]

Each script's own output is shown as it runs. `--quick` runs smaller sizes (a smoke test of the
scripts: its figures are not comparable to the targets, which are set for the full sizes). The
scripts and what they need are listed in the README and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


@dataclass(frozen=True)
class Bench:
    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES = (
    Bench("gate", ("bench/gate.py", "--seconds", "15"), ("bench/gate.py", "--seconds", "4")),
    Bench(
        "limiter",
        ("bench/limiter_utilisation.py", "--backend", "both", "--processes", "4", "--parallel"),
        ("bench/limiter_utilisation.py", "--backend", "both", "--processes", "4", "--parallel", "--seconds", "15"),
    ),
    Bench("optimizer_replay", ("bench/optimizer_replay.py",), ("bench/optimizer_replay.py", "--decisions", "10000")),
    Bench(
        "effectiveness", ("bench/effectiveness.py",), ("bench/effectiveness.py", "--events", "60000", "--repeat", "2")
    ),
    Bench("simulate", ("bench/simulate.py",), ("bench/simulate.py", "--hours", "12")),
    Bench(
        "dashboard_panels",
        ("bench/dashboard_panels.py",),
        ("bench/dashboard_panels.py", "--events", "60000", "--repeat", "5"),
    ),
    Bench(
        "dashboard_audit",
        ("bench/dashboard_audit.py",),
        ("bench/dashboard_audit.py", "--events", "60000", "--repeat", "5"),
    ),
)


def main() -> None:
    args = parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    rows: list[tuple[str, str, str, str]] = []
    for bench in chosen:
        argv = bench.quick if args.quick else bench.full
        print(f"\n=== {bench.name}: {' '.join(argv)}", flush=True)
        started = time.perf_counter()
        out, code = run(argv)
        print(f"=== {bench.name}: {time.perf_counter() - started:.0f} s", flush=True)
        found = FIGURES[bench.name](out) if code == 0 else []
        rows += found or [(bench.name, f"failed (exit {code})" if code else "no figures found", "", "")]
    print_table(rows, quick=args.quick)


def run(argv: tuple[str, ...]) -> tuple[str, int]:
    """Runs one script, showing its output as it comes, and returns all of it."""
    process = subprocess.Popen([PY, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return "".join(lines), process.wait()


def gate(out: str) -> list[tuple[str, str, str, str]]:
    figures = {}
    for key, label in (("memory", "memory anchor"), ("durable", "durable anchor"), ("gate", "POST /api/v1/signals")):
        match = re.search(rf"^{re.escape(label)}.*?([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M)
        if match:
            figures[key] = [float(g) for g in match.groups()]
    if len(figures) < 3:
        return []
    (g_rps, _, g_p99), rows = figures["gate"], []
    for key in ("durable", "memory"):
        rps, _, p99 = figures[key]
        rows.append((f"gate req/s vs {key} anchor", f"{g_rps:,.0f}", f"{rps:,.0f} (same run)", f"{g_rps / rps:.2f}x"))
        rows.append((f"gate p99 vs {key} anchor", f"{g_p99:.1f} ms", f"{p99:.1f} ms (same run)", f"{g_p99 / p99:.2f}x"))
    rows.append(("gate target", "", ">= 0.80x req/s, <= 1.25x p99 of the durable anchor", ""))
    return rows


def limiter(out: str) -> list[tuple[str, str, str, str]]:
    pattern = r"^(.+?): (\d+) processes.*?: (\d+) calls made / (\d+) allowed = ([\d.]+)% utilisation"
    return [
        (f"limiter {group}, {processes} processes", f"{made} calls", f"{allowed} allowed", f"{float(share):.1f}%")
        for group, processes, made, allowed, share in re.findall(pattern, out, re.M)
    ]


def simulate(out: str) -> list[tuple[str, str, str, str]]:
    match = re.search(r"simulate --hours (\d+), 2 symbols, (\w+): ([\d.]+) s wall", out)
    if not match:
        return []
    hours, seconds = int(match.group(1)), float(match.group(3))
    ratio = f"{seconds / 60:.2f}x" if hours == 168 else "n/a"  # start-up included: not linear in hours
    return [(f"simulate {hours} h, {match.group(2)}", f"{seconds:.1f} s", "<= 60 s for 168 h", ratio)]


def against_target(label: str, pattern: str, target: float, unit: str, places: int):
    """A parser for one figure found by `pattern` (its group `value`) beside its target; `label` is
    filled in from the pattern's other named groups."""

    def parse(out: str) -> list[tuple[str, str, str, str]]:
        match = re.search(pattern, out)
        if not match:
            return []
        value = float(match["value"])
        measured = f"{value:.{places}f} {unit}"
        return [(label.format(**match.groupdict()), measured, f"<= {target:g} {unit}", f"{value / target:.2f}x")]

    return parse


FIGURES = {
    "gate": gate,
    "limiter": limiter,
    "optimizer_replay": against_target(
        "optimizer replay {decisions} x {candidates}",
        r"candidate table, (?P<decisions>[\d,]+) x (?P<candidates>\d+) candidates: best (?P<value>[\d.]+) s",
        1,
        "s",
        3,
    ),
    "effectiveness": against_target(
        "effectiveness, {events} events",
        r"run_effectiveness over (?P<events>[\d,]+) events: best (?P<value>[\d.]+) s",
        5,
        "s",
        3,
    ),
    "simulate": simulate,
    "dashboard_panels": against_target(
        "slowest overview/health panel (worst)",
        r"slowest panel: median [\d.]+ ms, worst (?P<value>[\d.]+) ms",
        50,
        "ms",
        1,
    ),
    "dashboard_audit": against_target(
        "slowest audit panel (worst)",
        r"worst panel request over [\d,]+ guard events: (?P<value>[\d.]+) ms",
        50,
        "ms",
        1,
    ),
}


def print_table(rows: list[tuple[str, str, str, str]], *, quick: bool) -> None:
    print("\n" + ("QUICK RUN: smaller sizes, not comparable to the targets\n" if quick else ""))
    header = ("figure", "measured", "anchor (same run) or target", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a check that every script runs")
    parser.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(b.name for b in BENCHES)}")
    return parser.parse_args()


if __name__ == "__main__":
    main()
