"""How long the commands a person types take, as whole processes: CPU seconds and wall time, as JSON.

Two targets (issue 12), on a quiet machine:

* ``matchmaker --help`` under 0.3 s of CPU;
* ``matchmaker partners highreso`` under 1 s of CPU (the shipped profiles, no database, default
  settings, warm caches: the embedding cache and the fit cache, as on any second use).

A third command has no target and is measured to show what the fit cache saves:
``matchmaker --no-cache partners highreso`` loads and fits the profiles again (the embedding cache
still warm), as the first run after a profile changes does.

Each command runs ``--runs`` times after one warm-up run (which compiles the bytecode, fills the page
cache and the caches, as any second use does), each as its own process started by the installed
``matchmaker`` script, in an empty folder with no ``MATCHMAKER_*`` variable set but
``MATCHMAKER_CACHE_DIR``: a fresh temporary folder (so the user's own caches neither help nor change),
or ``--cache-dir``. CPU time is the child's user plus system time from ``wait4``, so it counts what
the command costs whatever else the machine runs; the wall time does depend on that, and the load
average is recorded before and after.

Usage::

    python benchmarks/cli_speed.py                 # 10 runs each
    python benchmarks/cli_speed.py --runs 20 --command partners
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "help": (["--help"], 0.3),
    "partners": (["partners", "highreso"], 1.0),
    "partners-no-cache": (["--no-cache", "partners", "highreso"], None),  # what the fit cache saves
}


def matchmaker_command() -> list[str]:
    """The installed console script beside this Python, else the module run by this Python."""
    script = Path(sys.executable).with_name("matchmaker")
    if script.is_file():
        return [str(script)]
    found = shutil.which("matchmaker")
    return [found] if found else [sys.executable, "-c", "from matchmaker.cli import app; app()"]


def run_once(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit code) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.stderr is not None:
        process.stderr.close()
    return usage.ru_utime + usage.ru_stime, wall, process.returncode


def measure(name: str, runs: int, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    args, target = COMMANDS[name]
    command = [*matchmaker_command(), *args]
    run_once(command, cwd, env)  # warm-up
    load_before = [round(x, 2) for x in os.getloadavg()]
    cpu, wall, codes = [], [], []
    for _ in range(runs):
        c, w, code = run_once(command, cwd, env)
        cpu.append(c)
        wall.append(w)
        codes.append(code)
    return {
        "command": " ".join(["matchmaker", *args]),
        "runs": runs,
        "exit_codes": sorted(set(codes)),
        "cpu_s_median": round(statistics.median(cpu), 3),
        "cpu_s_min": round(min(cpu), 3),
        "cpu_s_max": round(max(cpu), 3),
        "wall_s_median": round(statistics.median(wall), 3),
        "wall_s_max": round(max(wall), 3),
        "target_cpu_s_below": target,
        "target_met": None if target is None else statistics.median(cpu) < target and codes.count(0) == runs,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs of each command (after one warm-up)")
    parser.add_argument("--command", choices=sorted(COMMANDS), action="append", help="only these (repeatable)")
    parser.add_argument("--cache-dir", type=Path, help="the cache folder to use (default: a fresh temporary one)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env["COLUMNS"] = "120"  # the same layout whatever terminal runs the benchmark
    with tempfile.TemporaryDirectory(prefix="matchmaker-cli-speed-") as folder:
        env["MATCHMAKER_CACHE_DIR"] = str(args.cache_dir or Path(folder) / "cache")
        work = Path(folder) / "work"
        work.mkdir()
        results = [measure(name, args.runs, work, env) for name in args.command or COMMANDS]
    report = {
        "benchmark": "matchmaker commands as whole processes: CPU (user + system) and wall seconds",
        "command": " ".join(["python", "benchmarks/cli_speed.py", *sys.argv[1:]]),
        "machine": {
            "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "cache_dir": "temporary" if args.cache_dir is None else str(args.cache_dir),
        "target_met": all(r["target_met"] for r in results if r["target_met"] is not None),
        "results": results,
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
