"""A small wrapper around the HiGHS mixed-integer solver: build once, solve objective after objective.

The scheduler's objective is lexicographic (accepted requests, then minimums, then open requests, then
score), so one model is solved once per level: each level is maximised with the previous levels held at
the values reached, and the previous level's solution is the next one's start, so every run has a
feasible solution from its first moment and a time limit never leaves it empty-handed.

Why HiGHS (measured in docs/events.md): on the selection model at 1,000 participants CP-SAT with one
worker reached under half the optimum of the score level in 20 deterministic seconds, HiGHS proved every
level optimal at the root node in seconds.

HiGHS runs single-threaded with a fixed seed, so a run that ends before its time limit is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from highspy._core import _Highs
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Outcome:
    """One level's run: the solution, its objective, the solver's bound, and how the run ended."""

    values: FloatArray
    objective: float
    bound: float
    optimal: bool
    time_limited: bool


def _highs() -> _Highs:
    # highspy.Highs() prints HiGHS's banner to standard output while it sets up Python callbacks (HiGHS
    # issues #1702, #1932), which would corrupt JSON printed by the CLI; the underlying class does not,
    # and output is switched off before anything else happens.
    h = _Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    # Measured on the selection model: presolve's probing took most of each level's time (6.6 of 7.7 s at
    # 1,000 participants) and every level still closed at the root node without it.
    h.setOptionValue("presolve", "off")
    return h


class Mip:
    """``lower <= A x <= upper`` with bounded columns, some integer; maximised one objective at a time.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> mip = Mip(sp.csr_matrix([[1.0, 1.0]]), np.array([-np.inf]), np.array([1.0]),
    ...           np.zeros(2), np.ones(2), np.ones(2, dtype=bool))
    >>> out = mip.maximise(np.array([1.0, 2.0]), start=np.zeros(2), time_limit=10)
    >>> out.values.round().astype(int).tolist(), out.objective, out.optimal
    ([0, 1], 2.0, True)
    """

    def __init__(
        self,
        matrix: sp.csr_matrix,
        row_lower: FloatArray,
        row_upper: FloatArray,
        col_lower: FloatArray,
        col_upper: FloatArray,
        integer: NDArray[np.bool_],
    ) -> None:
        self.n = matrix.shape[1]
        self._rows = (
            sp.csr_matrix(matrix),
            np.asarray(row_lower, dtype=np.float64),
            np.asarray(row_upper, dtype=np.float64),
        )
        self._cols = (np.asarray(col_lower, dtype=np.float64), np.asarray(col_upper, dtype=np.float64))
        csc = sp.csc_matrix(matrix)
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
        lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -highspy.kHighsInf).astype(np.float64)
        lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, highspy.kHighsInf).astype(np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(np.float64)
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
        self._h = _highs()
        self._h.passModel(lp)

    def feasible(self, x: FloatArray, tolerance: float = 1e-6) -> bool:
        """Whether ``x`` is integral and satisfies every row and column bound."""
        matrix, lower, upper = self._rows
        lhs = matrix @ x
        low, high = self._cols
        return bool(
            np.all(np.abs(x - np.round(x)) <= tolerance)
            and np.all(x >= low - tolerance)
            and np.all(x <= high + tolerance)
            and np.all(lhs >= lower - tolerance)
            and np.all(lhs <= upper + tolerance)
        )

    def add_row(self, coefficients: FloatArray, lower: float, upper: float) -> None:
        """Add ``lower <= coefficients . x <= upper`` (dense coefficients; zeros are skipped)."""
        index = np.flatnonzero(coefficients).astype(np.int32)
        matrix, lowers, uppers = self._rows
        row = sp.csr_matrix((coefficients[index], (np.zeros(len(index), dtype=np.int64), index)), shape=(1, self.n))
        self._rows = (sp.vstack([matrix, row], format="csr"), np.append(lowers, lower), np.append(uppers, upper))
        low = lower if np.isfinite(lower) else -highspy.kHighsInf
        high = upper if np.isfinite(upper) else highspy.kHighsInf
        self._h.addRow(low, high, len(index), index, coefficients[index].astype(np.float64))

    def maximise(
        self,
        objective: FloatArray,
        *,
        start: FloatArray,
        time_limit: float,
        rel_gap: float = 0.0,
        known_bound: float | None = None,
        lp_solver: str = "simplex",
    ) -> Outcome:
        """Maximise ``objective . x`` from the feasible ``start``, for at most ``time_limit`` seconds.

        ``rel_gap`` is the relative gap at which HiGHS may stop; integer objectives also stop within one
        unit, which for them is optimal. When ``start`` already reaches ``known_bound`` (an upper bound the
        caller knows, such as every accepted request met) it is returned as optimal without solving.
        ``lp_solver`` is HiGHS's root LP solver (``"simplex"`` or ``"ipx"``).
        """
        start = np.asarray(start, dtype=np.float64)
        reached = float(objective @ start)
        if not np.any(objective) or (known_bound is not None and reached >= known_bound - 1e-9):
            return Outcome(start, reached, reached, optimal=True, time_limited=False)
        h = self._h
        h.setOptionValue("mip_lp_solver", lp_solver)
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), -np.asarray(objective, dtype=np.float64))
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.setOptionValue("mip_rel_gap", float(rel_gap))
        h.setOptionValue("mip_abs_gap", 0.999 if np.all(objective == np.round(objective)) else 1e-6)
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=np.float64)
        solution.value_valid = True
        h.setSolution(solution)
        h.run()
        status = h.getModelStatus()
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
        if len(values) != self.n or not np.all(np.isfinite(values)) or not self.feasible(values):
            values = np.asarray(start, dtype=np.float64)  # the start is feasible; a slipped solution is not used
            status = highspy.HighsModelStatus.kInterrupt if status == highspy.HighsModelStatus.kOptimal else status
        objective_value = float(objective @ values)
        integral = bool(np.all(objective == np.round(objective)))
        bound = -float(h.getInfo().mip_dual_bound)
        if status == highspy.HighsModelStatus.kOptimal and (rel_gap == 0 or not np.isfinite(bound)):
            bound = objective_value
        elif not np.isfinite(bound):
            bound = float("inf")
        elif integral:  # a bound on an integer objective rounds down (HiGHS's bound carries tolerance)
            bound = float(np.floor(bound + 1e-6))
        bound = max(bound, objective_value)
        optimal = bound - objective_value < (1.0 if integral else 1e-6)
        return Outcome(
            values=values,
            objective=objective_value,
            bound=bound,
            optimal=optimal,
            time_limited=status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt),
        )
