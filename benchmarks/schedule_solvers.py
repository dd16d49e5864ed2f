"""The scheduler's selection model solved by HiGHS (as the scheduler does) and by OR-tools CP-SAT, compared.

The same model for both: the scheduler builds the selection relaxation of a benchmark event
(benchmarks/schedule.py: real scorer, top 30 candidates each, 16 slots, tables for a quarter) as one
sparse matrix; HiGHS solves it level by level as the scheduler does, and CP-SAT gets the identical rows,
bounds and level objectives, one worker, ``linearization_level=2`` (the default level was far slower in
a first trial), each level with the previous one's solution as a hint and ``--cp-sat-seconds``
deterministic seconds. Uses the scheduler's private functions on purpose: this measures a design choice,
it is not an interface.

OR-tools is not a dependency of matchmaker; install it to run this (``pip install ortools``).

Usage::

    nice -n 10 python benchmarks/schedule_solvers.py --size 1000 --json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from matchmaker.core.events import instance as scheduling_instance
from matchmaker.core.events import selection

HERE = Path(__file__).resolve().parent


def _build_event(n: int, seed: int) -> Any:
    spec = importlib.util.spec_from_file_location("schedule_benchmark", HERE / "schedule.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module.build_event(n, seed)


def highs_levels(inst: Any, limit: float) -> list[dict[str, Any]]:
    columns = selection.selection_columns(inst)
    model = selection.build_model(inst, *columns, integrated=False)
    marks: list[tuple[str, float]] = []
    result = selection.solve_levels(
        inst,
        model,
        model.start(inst, {}),
        time.monotonic() + limit,
        0.0,
        lambda stage: marks.append((stage.split(": ", 1)[1], time.process_time())),
        "selection",
    )
    ends = [t for _, t in marks[1:]] + [time.process_time()]
    objectives, _ = selection.level_objectives(inst, model)
    return [
        {"level": name, "value": float(objective @ result.values), "cpu_seconds": round(end - start, 2)}
        for (name, start), end, (_, objective) in zip(marks, ends, objectives, strict=True)
    ] + [{"optimal": result.optimal}]


def cp_sat_levels(inst: Any, seconds: float) -> list[dict[str, Any]]:
    from ortools.sat.python import cp_model

    columns = selection.selection_columns(inst)
    built = selection.build_model(inst, *columns, integrated=False)
    matrix, lower, upper, col_upper = built.rows
    model = cp_model.CpModel()
    x = [model.new_int_var(0, int(u), f"x{j}") for j, u in enumerate(col_upper)]
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        expr = cp_model.LinearExpr.weighted_sum(
            [x[j] for j in matrix.indices[start:end]], [int(v) for v in matrix.data[start:end]]
        )
        lo = int(lower[i]) if np.isfinite(lower[i]) else -(2**40)
        hi = int(upper[i]) if np.isfinite(upper[i]) else 2**40
        model.add_linear_constraint(expr, lo, hi)
    start_values = built.start(inst, {})
    for var, value in zip(x, start_values, strict=True):
        model.add_hint(var, round(float(value)))
    objectives, _ = selection.level_objectives(inst, built)
    out: list[dict[str, Any]] = []
    for name, vector in objectives:
        nz = np.flatnonzero(vector)
        expr = cp_model.LinearExpr.weighted_sum([x[j] for j in nz], [int(vector[j]) for j in nz])
        model.maximize(expr)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.linearization_level = 2
        solver.parameters.max_deterministic_time = seconds
        started = time.process_time()
        status = solver.solve(model)
        value = solver.objective_value
        out.append(
            {
                "level": name,
                "value": value,
                "bound": solver.best_objective_bound,
                "status": solver.status_name(status),
                "cpu_seconds": round(time.process_time() - started, 2),
            }
        )
        model.add(expr >= round(float(value)))
        model.clear_hints()  # type: ignore[no-untyped-call]
        for var in x:
            model.add_hint(var, solver.value(var))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cp-sat-seconds", type=float, default=20.0, help="deterministic seconds per level")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    event, candidates, _ = _build_event(args.size, args.seed)
    inst = scheduling_instance.build_instance(event, candidates)
    report: dict[str, Any] = {"participants": args.size, "pairs": len(inst.ea), "highs": highs_levels(inst, 600.0)}
    try:
        report["cp_sat"] = cp_sat_levels(inst, args.cp_sat_seconds)
    except ImportError:
        report["cp_sat"] = "not installed (pip install ortools)"
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for key in ("highs", "cp_sat"):
            sys.stdout.write(f"{key}: {json.dumps(report[key])}\n")


if __name__ == "__main__":
    main()
