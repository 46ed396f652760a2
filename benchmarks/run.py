"""Benchmarks: wall time and peak memory of the world, ingest, the OSKE study, matching, the demo.

Run with ``make bench`` (tiny, small and espoo) or
``.venv/bin/python benchmarks/run.py --scales espoo national``. The ingest benchmark reads a
world with planted defects (rate 0.001) into a DuckDB warehouse with the default settings; the
study benchmark runs the shipped OSKE study on that warehouse (with its release); the matching
benchmark (``benchmarks/matching.py``, independent of scale) times only the matching call; the
demo benchmark runs ``kotoeval demo`` whole (world, ingest, both studies, releases, reports).
Peak memory is the largest sum of proportional memory (PSS) over the process tree (the main
process and its chunk workers), sampled from /proc every 0.2 s. Results are printed and appended to
``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kotoeval.warehouse import data_folder

TARGETS = {
    ("synth", "espoo"): {"seconds": 60, "peak_gib": 4},
    ("synth", "national"): {"seconds": None, "peak_gib": 8},
    ("ingest", "espoo"): {"seconds": 60, "peak_gib": None},
    ("ingest", "national"): {"seconds": 900, "peak_gib": 8},
    ("study", "espoo"): {"seconds": 60, "peak_gib": None},
    ("matching", "100k_vs_2m"): {"seconds": 10, "peak_gib": None},
    ("demo", "espoo"): {"seconds": 180, "peak_gib": 6},
}
BENCHMARKS = ("synth", "ingest", "study", "matching", "demo")
OSKE = Path(__file__).parents[1] / "src" / "kotoeval" / "study" / "examples" / "oske.toml"
DEFECTS = "0.001"


def _tree_memory_kib(root: int) -> int:
    """Proportional set size (PSS) of ``root`` and all its descendants, in KiB (Linux /proc).

    PSS shares pages that forked workers inherit from the main process, so the sum is what the
    tree really holds in memory (a sum of RSS would count shared pages once per process).
    """
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == 0:
                continue
            parents[int(entry)] = parent
            rss[int(entry)] = _pss_kib(int(entry)) if _descends(int(entry), root, parents) else 0
        except (OSError, ValueError):
            continue
    return sum(rss.values())


def _descends(pid: int, root: int, parents: dict[int, int]) -> bool:
    while pid not in (0, 1):
        if pid == root:
            return True
        if pid not in parents:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parents[pid] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                return False
        pid = parents[pid]
    return False


def _pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def measure(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; return (seconds, peak GiB over the process tree, its output)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_memory_kib(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}):\n{output}")
    return seconds, peak / 1024 / 1024, output


def _row(
    benchmark: str, scale: str, fmt: str, seconds: float, peak: float, size: float
) -> dict[str, object]:
    target = TARGETS.get((benchmark, scale), {})
    row = {
        "benchmark": benchmark, "scale": scale, "format": fmt,
        "seconds": round(seconds, 1), "peak_gib": round(peak, 2), "output_gib": round(size, 2),
        "target_seconds": target.get("seconds"), "target_peak_gib": target.get("peak_gib"),
        "cores": os.cpu_count(), "machine": platform.machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["tiny", "small", "espoo"])
    parser.add_argument("--format", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    parser.add_argument("--keep", type=Path, help="write worlds here instead of a temporary folder")
    args = parser.parse_args()
    kotoeval = str(Path(sys.executable).with_name("kotoeval"))
    results = []
    if "matching" in args.benchmarks:
        _, peak, output = measure([sys.executable, str(Path(__file__).with_name("matching.py"))])
        seconds = json.loads(output.strip().splitlines()[-1])["seconds"]
        results.append(_row("matching", "100k_vs_2m", "-", seconds, peak, 0.0))
    if "demo" in args.benchmarks:
        for scale in args.scales:
            out = Path(tempfile.mkdtemp(prefix="kotoeval-demo-"))
            seconds, peak, _ = measure([kotoeval, "demo", "--scale", scale, "--out", str(out)])
            results.append(_row("demo", scale, "csv", seconds, peak, 0.0))
            shutil.rmtree(out, ignore_errors=True)
    world_benchmarks = {"synth", "ingest", "study"} & set(args.benchmarks)
    for scale in args.scales if world_benchmarks else []:
        out = (args.keep or Path(tempfile.mkdtemp(prefix="kotoeval-bench-"))) / scale
        command = [kotoeval, "synth", "--scale", scale, "--seed", "1", "--out", str(out),
                   "--format", args.format, "--defects", DEFECTS]  # fmt: skip
        seconds, peak, _ = measure(command)
        size = sum(f.stat().st_size for f in out.iterdir()) / 1024**3
        results.append(_row("synth", scale, args.format, seconds, peak, size))
        if "ingest" in args.benchmarks:
            key = out.parent / f"{scale}.key"
            warehouse = out.parent / f"{scale}.duckdb"
            subprocess.run([kotoeval, "keygen", "--out", str(key)], check=True, capture_output=True)
            command = [kotoeval, "ingest", "--source", str(out), "--warehouse", str(warehouse),
                       "--key", str(key)]  # fmt: skip
            seconds, peak, _ = measure(command)
            stored = [warehouse, *(f for f in data_folder(warehouse).rglob("*") if f.is_file())]
            size = sum(f.stat().st_size for f in stored) / 1024**3
            results.append(_row("ingest", scale, args.format, seconds, peak, size))
            if "study" in args.benchmarks:
                study = out.parent / f"{scale}-oske"
                command = [kotoeval, "study", "run", str(OSKE), "--warehouse", str(warehouse),
                           "--out", str(study)]  # fmt: skip
                seconds, peak, _ = measure(command)
                results.append(_row("study", scale, args.format, seconds, peak, 0.0))
        if args.keep is None:
            shutil.rmtree(out.parent, ignore_errors=True)
    with (Path(__file__).parent / "results.jsonl").open("a") as f:
        for row in results:
            f.write(json.dumps(row) + "\n")
    failed = [
        r for r in results
        if (r["target_seconds"] and r["seconds"] > r["target_seconds"])
        or (r["target_peak_gib"] and r["peak_gib"] > r["target_peak_gib"])
    ]  # fmt: skip
    for r in failed:
        print(
            f"OVER TARGET: {r['benchmark']} {r['scale']}: {r['seconds']} s, {r['peak_gib']} GiB",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
