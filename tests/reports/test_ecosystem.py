"""The gap analysis (core, no files): known answers, and agreement with the scorer's own numbers."""

from __future__ import annotations

import itertools

import pytest

from builders import market, profile
from matchmaker.core.ecosystem import ItemFit, analyse_ecosystem
from matchmaker.core.errors import SettingsError
from matchmaker.core.population import Population
from matchmaker.core.scoring import ScoringSettings
from tests.reports.support import fit, shipped


def _need(fits: tuple[ItemFit, ...], org: str, dimension: str) -> ItemFit:
    return next(f for f in fits if f.ref.org == org and f.ref.dimension == dimension)


def test_known_unmet_needs_and_oversupply(market_population: Population) -> None:
    eco = analyse_ecosystem(market_population)
    unmet = {(f.ref.org, f.ref.item.description) for f in eco.unmet}
    # Nobody offers talent, violin lessons or legal review.
    assert ("clinic", "machine learning researchers") in unmet
    assert ("idle", "violin tuning lessons") in unmet
    assert ("one-sided", "legal contract review expertise") in unmet
    # What factory needs is exactly what gpu-host offers.
    assert ("factory", "gpu cloud capacity for model training") not in unmet
    over = {(f.ref.org, f.ref.item.description) for f in eco.oversupply}
    assert ("idle", "origami folding workshops") in over
    assert not any(org == "gpu-host" for org, _ in over)


def test_an_identical_central_offer_covers_a_need_fully(market_population: Population) -> None:
    fit_ = _need(analyse_ecosystem(market_population).needs, "factory", "compute")
    assert fit_.best == pytest.approx(1.0)
    assert fit_.best_org == "gpu-host"  # one-sided's weaker, differently worded offer comes second


def test_coverage_is_the_scorers_own_term(market_population: Population) -> None:
    """With one need in a dimension, its coverage by A is exactly benefit_d(A->B) of `explain`."""
    eco = analyse_ecosystem(market_population)
    speech_data = _need(eco.needs, "speech", "data")
    assert speech_data.best_org == "clinic"
    benefit = market_population.explain("clinic", "speech").dimensions["data"].a_to_b
    assert speech_data.best == pytest.approx(benefit)


def test_an_organisation_never_meets_its_own_need() -> None:
    population = fit(
        [
            profile("narcissus", offers={"data": "satellite images"}, needs={"data": "satellite images"}),
            profile("other", offers={"domain": "legal advice"}, needs={"domain": "tax advice"}),
        ]
    )
    eco = analyse_ecosystem(population)
    need = _need(eco.needs, "narcissus", "data")
    assert need.best == 0 and need.best_org is None
    assert need in eco.unmet


def test_a_dimension_nobody_offers_in_leaves_its_needs_unmet(market_population: Population) -> None:
    eco = analyse_ecosystem(market_population)
    talent = [f for f in eco.needs if f.ref.dimension == "talent"]
    assert talent and all(f.best == 0 and f.best_org is None for f in talent)


def test_bridge_counts_agree_with_explain_on_every_cross_border_pair() -> None:
    population, _ = shipped()
    threshold = 0.3
    eco = analyse_ecosystem(population, bridge_from=threshold)
    jp = [p.id for p in population.profiles if p.country == "JP"]
    india = [p.id for p in population.profiles if p.country == "IN"]
    assert eco.bridge_pairs == len(jp) * len(india)
    expected = dict.fromkeys(population.dimensions, 0)
    mutual = dict.fromkeys(population.dimensions, 0)
    for a, b in itertools.product(jp, india):
        for d, s in population.explain(a, b).dimensions.items():
            expected[d] += max(s.a_to_b, s.b_to_a) >= threshold
            mutual[d] += min(s.a_to_b, s.b_to_a) >= threshold
    assert {b.dimension: b.strong for b in eco.bridges} == expected
    assert {b.dimension: b.mutual for b in eco.bridges} == mutual
    for bridges in eco.bridges:
        for example in bridges.examples:
            s = population.explain(example.first, example.second).dimensions[bridges.dimension]
            assert (example.first_to_second, example.second_to_first) == pytest.approx((s.a_to_b, s.b_to_a))
            assert max(s.a_to_b, s.b_to_a) >= threshold


def test_blocks_do_not_change_the_answer() -> None:
    population, _ = shipped()
    whole = analyse_ecosystem(population)
    blocked = analyse_ecosystem(population, block_size=3)
    for x, y in zip((*whole.needs, *whole.offers), (*blocked.needs, *blocked.offers), strict=True):
        assert x.ref == y.ref and x.best_org == y.best_org
        assert x.best == pytest.approx(y.best)
    assert whole.bridges == blocked.bridges


def test_flagged_items_are_sorted_most_important_first() -> None:
    eco = analyse_ecosystem(shipped()[0])
    keys = [(-f.ref.item.strength, f.best) for f in eco.unmet]
    assert keys == sorted(keys)
    assert all(f.best < eco.unmet_below for f in eco.unmet)
    assert all(f.best < eco.oversupply_below for f in eco.oversupply)


def test_bridge_countries_come_from_the_settings(market_population: Population) -> None:
    eco = analyse_ecosystem(market_population, settings=ScoringSettings(bridge=("JP", "US")))
    assert eco.bridge == ("JP", "US") and eco.bridge_pairs == 0
    assert all(b.strong == 0 and not b.examples for b in eco.bridges)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("unmet_below", 0.0, "unmet_below must be a number in \\(0, 1\\], got 0.0"),
        ("oversupply_below", 1.5, "oversupply_below must be a number in \\(0, 1\\], got 1.5"),
        ("bridge_from", -1.0, "bridge_from must be a number in \\(0, 1\\], got -1.0"),
        ("block_size", 0, "block_size >= 1, got 3 and 0"),
    ],
    ids=["unmet", "oversupply", "bridge", "block"],
)
def test_bad_thresholds_are_refused(market_population: Population, option: str, value: float, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        analyse_ecosystem(market_population, **{option: value})  # type: ignore[arg-type]


def test_every_item_is_analysed_once(market_population: Population) -> None:
    eco = analyse_ecosystem(market_population)
    assert len(eco.needs) == sum(len(i) for p in market() for i in p.needs.values())
    assert len(eco.offers) == sum(len(i) for p in market() for i in p.offers.values())
