"""The dask engine gives exactly the local engine's answer, survives a killed worker, and fails clearly.

The tests that start a cluster (two worker processes) are slow; the ones about addresses are not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from builders import populations
from matchmaker.cli import app
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.scoring import COMBINERS, ScoringSettings
from matchmaker.core.scoring.execution import run_tiles_locally
from matchmaker.core.scoring.filters import PairFilter
from matchmaker.core.scoring.layout import SupportLayout
from matchmaker.core.scoring.selection import BestPairs, BestPartners
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.synth import synthesise

distributed = pytest.importorskip("distributed")
cluster = pytest.importorskip("matchmaker.cluster")


def tile_source(population: Population, canonical: int, kernel: str) -> TileScorer:
    plan = population.scorer().plan()  # type: ignore[attr-defined]
    return TileScorer(SupportLayout.of(plan, canonical), plan.settings, plan.clamp, kernel)


def answers(source: TileScorer, k: int, side: int, run: Any, cross: bool = False) -> list[np.ndarray]:
    """Every organisation's best k and the best k pairs, run by ``run(source, collector, side, ...)``."""
    partners = BestPartners(source.n, k, source.dtype, fast=source.fast)
    run(source, partners, side)
    pairs = BestPairs(k, source.dtype, fast=source.fast)
    run(source, pairs, side, cross_border_only=cross)
    return [partners.index, partners.score, pairs.a, pairs.b, pairs.score]


def assert_same(found: list[np.ndarray], expected: list[np.ndarray]) -> None:
    for x, y in zip(found, expected, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real cluster as the docs start one: ``dask scheduler`` and two ``dask worker`` processes.

    (The scheduler runs in its own process, so nothing of it shares this one's random state with
    hypothesis; a LocalCluster runs its scheduler in the test's process.)
    """
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    dask = str(Path(sys.executable).parent / "dask")
    started = [
        subprocess.Popen(
            [dask, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for _ in range(2):
            started.append(
                subprocess.Popen(
                    [dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=60, set_as_default=False) as found:
            found.wait_for_workers(2, timeout=60)
            yield found
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=30)


def on(client: Any) -> Any:
    def run(source: TileScorer, collector: Any, side: int, **options: Any) -> None:
        cluster.run_on_client(client, source, collector, side, **options)

    return run


@pytest.mark.slow
# The LocalCluster's threads use the random module while hypothesis draws; the strategy itself does not.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    populations(max_orgs=40, max_items=3),
    st.sampled_from([None, 4]),
    st.sampled_from(sorted(COMBINERS)),
    st.sampled_from([2, 3, 8]),
    st.sampled_from([2, 5, 7]),
    st.integers(1, 4),
    st.booleans(),
    st.sampled_from(["numpy", "numba"]),
)
def test_dask_equals_local_on_random_markets(
    client: Any,
    profiles: list[Profile],
    components: int | None,
    combiner: str,
    canonical: int,
    side: int,
    k: int,
    cross: bool,
    kernel: str,
) -> None:
    if not any(p.offers or p.needs for p in profiles):
        return
    population = Population.fit(
        profiles, n_components=components, settings=ScoringSettings(combiner=combiner, cross_border_weight=0.2)
    )
    source = tile_source(population, canonical, kernel)
    expected = answers(source, k, side, lambda *a, **o: run_tiles_locally(*a, **o, n_jobs=1), cross)
    assert_same(answers(source, k, side, on(client), cross), expected)


@settings(max_examples=40, deadline=None)
@given(
    populations(max_orgs=40, max_items=3),
    st.sampled_from([None, 4]),
    st.sampled_from([2, 3, 8]),
    st.sampled_from([2, 5]),
    st.integers(1, 4),
    st.sampled_from(["numpy", "numba"]),
    st.randoms(use_true_random=False),
)
def test_tasks_seeded_from_any_earlier_state_give_the_local_answer(
    profiles: list[Profile], components: int | None, canonical: int, side: int, k: int, kernel: str, rnd: Any
) -> None:
    """The second phase's tasks, run in process as a cluster would, each seeded from a state folded any
    number of tasks earlier (as on a cluster where many are handed out at once), in any order."""
    if not any(p.offers or p.needs for p in profiles):
        return
    source = tile_source(Population.fit(profiles, n_components=components), canonical, kernel)
    expected = BestPartners(source.n, k, source.dtype, fast=source.fast)
    run_tiles_locally(source, expected, side, n_jobs=1)
    first, second = cluster.work_of(source.n, side, source.canonical)
    part = cluster.score_tiles(source, first, True, k, False, False, None)
    states = [cluster.fold(source.n, k, source.dtype, source.fast, False, None, part)]
    groups = cluster._groups(second, side, 1)
    rnd.shuffle(groups)
    for group in groups:
        seed = cluster.seed_of(rnd.choice(states), cluster.task_rows(group))
        part = cluster.score_tiles(source, group, False, k, False, False, seed)
        states.append(cluster.fold(source.n, k, source.dtype, source.fast, False, states[-1], part))
    np.testing.assert_array_equal(states[-1].index, expected.index)
    np.testing.assert_array_equal(states[-1].score, expected.score)


spans = st.tuples(st.integers(0, 60), st.integers(1, 12)).map(lambda s: (s[0], s[0] + s[1]))


@given(st.lists(st.tuples(spans, spans).map(lambda t: (*t[0], *t[1])), min_size=1, max_size=8))
def test_a_tasks_rows_are_every_row_and_column_of_its_tiles_once_ascending(tiles: list[Any]) -> None:
    covered = sorted({i for r0, r1, c0, c1 in tiles for i in [*range(r0, r1), *range(c0, c1)]})
    assert cluster.task_rows(tiles).tolist() == covered


@pytest.fixture(scope="module")
def latent(shipped: ProfileSet) -> Population:
    profiles = synthesise(shipped, 2600, seed=12).profiles
    dims, sectors = tuple(shipped.vocabulary.dimensions), tuple(shipped.vocabulary.sectors)
    return Population.fit(profiles, dimensions=dims, sectors=sectors, n_components=24)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_dask_equals_local_across_many_tasks(client: Any, latent: Population, kernel: str) -> None:
    source = tile_source(latent, 512, kernel)
    expected = answers(source, 10, 512, run_tiles_locally)
    assert_same(answers(source, 10, 512, on(client)), expected)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_dask_equals_local_with_a_pair_filter(client: Any, latent: Population, kernel: str) -> None:
    """Related, declined and enabler rules (a ``PairFilter``) go to the workers with the layout."""
    n, rng = len(latent), np.random.default_rng(3)
    listed = (rng.integers(0, n, 2000), rng.integers(0, n, 2000))
    rules = PairFilter(allowed=rng.random(n) > 0.1, groups=(rng.integers(-1, 40, n),), pairs=listed)
    source = tile_source(latent, 512, kernel).restricted(rules.cells(n))
    expected = answers(source, 10, 512, run_tiles_locally)
    assert_same(answers(source, 10, 512, on(client)), expected)
    enablers = PairFilter(one_of=rng.random(n) < 0.2, pairs=listed)
    source = tile_source(latent, 512, kernel).restricted(enablers.cells(n))
    assert_same(answers(source, 10, 512, on(client)), answers(source, 10, 512, run_tiles_locally))


@pytest.mark.slow
def test_a_killed_worker_changes_nothing(latent: Population) -> None:
    """SIGKILL one of two workers once the first task is done: its tasks run again, the answer is the same."""
    source = tile_source(latent, 64, "numba")  # small blocks: about a hundred tasks
    expected = answers(source, 10, 64, run_tiles_locally)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50
        ) as local,
        distributed.Client(local, set_as_default=False) as own,
    ):
        own.wait_for_workers(2)
        victim = next(iter(own.run(os.getpid).values()))
        killed: list[int] = []

        def kill_once(done: int, total: int) -> None:
            if not killed and 0 < done < total:
                os.kill(victim, signal.SIGKILL)
                killed.append(done)

        partners = BestPartners(source.n, 10, source.dtype, fast=True)
        cluster.run_on_client(own, source, partners, 64, progress=kill_once)
        assert killed, "the worker was not killed during the run"
        np.testing.assert_array_equal(partners.index, expected[0])
        np.testing.assert_array_equal(partners.score, expected[1])


def test_an_unreachable_scheduler_is_one_clear_error() -> None:
    backend = cluster.DaskBackend("tcp://127.0.0.1:9", timeout=0.5)
    with (
        pytest.raises(
            MatchmakerError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9' within 0\.5 s"
        ),
        backend.client(),
    ):
        pass


@pytest.mark.parametrize("address", ["nonsense", "tcp://[::1"], ids=["no-port", "bad-ipv6"])
def test_a_malformed_address_is_named(address: str) -> None:
    with pytest.raises(MatchmakerError, match=f"{address!r} is not a Dask scheduler address".replace("[", r"\[")):
        cluster.DaskBackend(address).client().__enter__()


def test_cli_unreachable_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    result = CliRunner().invoke(app, ["pairs", "--top", "3", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'")
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_cli_scheduler_needs_the_dask_engine() -> None:
    result = CliRunner().invoke(app, ["pairs", "--engine", "local", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "is for the dask engine; use --engine dask" in result.stderr


@pytest.mark.slow
def test_cli_pairs_on_dask_equal_local(tmp_path: Path) -> None:
    """``matchmaker pairs --engine dask`` (a local cluster of processes) prints what the local engine prints."""
    population = tmp_path / "population.jsonl"
    assert CliRunner().invoke(app, ["synth", "--n", "2200", "--seed", "3", "--out", str(population)]).exit_code == 0

    def pairs(*extra: str) -> Any:
        # A separate process, as a user runs it: the cluster's workers start from the command's own module.
        done = subprocess.run(
            [str(Path(sys.executable).parent / "matchmaker"), "--profiles", str(population), "pairs", "--top", "30",
             "--format", "json", *extra],
            capture_output=True, text=True, check=True, env={**os.environ, "MATCHMAKER_DASK_WORKERS": "2"},
        )  # fmt: skip
        return json.loads(done.stdout)

    assert pairs("--engine", "dask") == pairs()


def test_the_core_installs_without_dask_or_numba() -> None:
    """The core, the command line and the service import neither Dask nor numba until asked to."""
    code = (
        "import sys; import matchmaker.core.scoring, matchmaker.core.population, matchmaker.cli.main,"
        " matchmaker.service.app, matchmaker.assembly;"
        "print(sorted(m for m in ('distributed', 'dask', 'numba') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_local_cluster_keeps_glibcs_adaptive_malloc() -> None:
    """Dask's nannies set MALLOC_TRIM_THRESHOLD_ for their workers; the engine's own cluster does not."""
    with cluster.local_cluster(1) as started, distributed.Client(started, set_as_default=False) as client:
        found = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(found.values()) == [None]
