"""Tile buffers: lent to tiles, kept between runs within a memory bound, large ones on huge page bounds."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np

from matchmaker.core.scoring.buffers import HUGE_FROM, HUGE_PAGE, IDLE, Workspace, WorkspacePool


def test_a_large_buffer_starts_on_a_huge_page_boundary_and_holds_what_was_asked() -> None:
    workspace = Workspace()
    rows = HUGE_FROM // 8 // 100 + 1  # just over HUGE_FROM bytes of float64
    large = workspace.buffer(0, rows, 100, np.float64)
    assert large.ctypes.data % HUGE_PAGE == 0
    assert large.shape == (rows, 100) and large.flags.c_contiguous
    large[...] = 1.5  # all of it is writable memory of its own
    assert workspace.buffer(0, rows, 100, np.float64).sum() == 1.5 * rows * 100  # the same buffer again
    small = workspace.buffer(1, 3, 4, np.float32)
    assert small.shape == (3, 4) and small.dtype == np.float32


def test_a_workspace_is_lent_again_after_its_tile_and_only_while_within_the_bound() -> None:
    pool = WorkspacePool(keep_bytes=1 << 20)
    with pool.borrowed() as first:
        first.buffer(0, 100, 100, np.float64)  # 80 kB: kept
    with pool.borrowed() as again:
        assert again is first
        again.buffer(1, 1000, 1000, np.float64)  # 8 MB more: past the bound, so freed after use
    with pool.borrowed() as fresh:
        assert fresh is not first and fresh.nbytes == 0


def test_during_a_run_a_workspace_past_the_bound_is_kept_for_the_next_tile() -> None:
    pool = WorkspacePool(keep_bytes=1 << 20)
    with pool.borrowed():  # another tile of the run is still being scored
        with pool.borrowed() as large:
            large.buffer(0, 1000, 1000, np.float64)  # 8 MB, past the bound
        with pool.borrowed() as again:
            assert again is large
    with pool.borrowed() as after_the_run:
        assert after_the_run is not large


def test_tiles_scored_at_once_never_share_a_workspace() -> None:
    pool = WorkspacePool()
    lent: list[int] = []
    inside = threading.Barrier(4)

    def borrow() -> None:
        with pool.borrowed() as workspace:
            lent.append(id(workspace))
            inside.wait(timeout=10)  # all four hold theirs at the same time

    threads = [threading.Thread(target=borrow) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(lent)) == 4


def test_a_forked_child_starts_with_a_pool_of_its_own() -> None:
    with IDLE.borrowed() as workspace:
        workspace.buffer(0, 10, 10, np.float64)
    IDLE._lock.acquire()  # as if another thread held it at the fork
    try:
        child = os.fork()
        if child == 0:  # the child: borrows at once, with nothing idle inherited
            with IDLE.borrowed() as fresh:
                os._exit(0 if fresh.nbytes == 0 else 1)
    finally:
        IDLE._lock.release()
    for _ in range(200):  # 10 s: a child that waits for the inherited lock never exits by itself
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        raise AssertionError("the child waited for a lock that no thread of it holds")
    assert os.waitstatus_to_exitcode(status) == 0
