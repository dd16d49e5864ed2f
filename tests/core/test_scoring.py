from __future__ import annotations

import pytest

from builders import market, profile
from matchmaker.core.errors import SettingsError, UnknownOrganisation
from matchmaker.core.population import Population
from matchmaker.core.scoring import ScoringSettings


def test_pairs_symmetric() -> None:
    population = Population.fit(market())
    ab = population.explain("speech", "clinic")
    ba = population.explain("clinic", "speech")
    assert ab.score == pytest.approx(ba.score)
    assert ab.a_to_b == pytest.approx(ba.b_to_a)


def test_one_sided_pairs_rank_below_mutual_ones() -> None:
    population = Population.fit(market())
    mutual = population.explain("factory", "gpu-host")
    one_sided = population.explain("factory", "one-sided")
    assert one_sided.b_to_a > 0 and one_sided.a_to_b == 0  # one-sided really does offer what factory needs
    assert one_sided.score == 0 < mutual.score
    # Even when one-sided pairs are allowed to score, they rank below the mutual one.
    lenient = ScoringSettings(combiner="arithmetic")
    ranked = [m.b.id for m in population.partners("factory", settings=lenient)]
    assert ranked.index("gpu-host") < ranked.index("one-sided")


def test_raising_a_weight_moves_the_expected_pair_up() -> None:
    # hub needs data and compute; data-shop meets the data need better, gpu-shop the compute need.
    profiles = [
        profile(
            "hub",
            offers={"domain": "factory automation expertise"},
            needs={"data": "factory sensor data", "compute": "gpu cloud capacity"},
        ),
        profile("data-shop", offers={"data": "factory sensor data"}, needs={"domain": "factory automation expertise"}),
        profile(
            "gpu-shop",
            offers={"compute": [("gpu cloud capacity", 2)]},
            needs={"domain": "factory automation expertise"},
        ),
    ]
    population = Population.fit(profiles)
    assert [m.b.id for m in population.partners("hub")] == ["data-shop", "gpu-shop"]
    heavier = ScoringSettings(dimension_weights={"compute": 4.0})
    assert [m.b.id for m in population.partners("hub", settings=heavier)] == ["gpu-shop", "data-shop"]


def test_cross_border_weight_prefers_japan_india() -> None:
    profiles = [
        profile("jp-maker", country="JP", offers={"data": "factory sensor data"}, needs={"compute": "gpu cloud"}),
        profile("jp-cloud", country="JP", offers={"compute": "gpu cloud"}, needs={"data": "factory sensor data"}),
        profile("in-cloud", country="IN", offers={"compute": "gpu cloud"}, needs={"data": "factory sensor data"}),
    ]
    population = Population.fit(profiles)
    plain = population.partners("jp-maker")
    assert plain[0].score == pytest.approx(plain[1].score)
    preferred = population.partners("jp-maker", settings=ScoringSettings(cross_border_weight=0.5))
    assert preferred[0].b.id == "in-cloud" and preferred[0].cross_border
    assert [m.b.id for m in population.partners("jp-maker", cross_border=True)] == ["in-cloud"]


def test_sector_fit_scales_but_never_creates_a_match() -> None:
    population = Population.fit(market())
    idle = population.explain("idle", "clinic")
    assert idle.sector_fit == pytest.approx(1.0) and idle.score == 0


def test_reasons_add_up_to_directed_benefit() -> None:
    population = Population.fit(market())
    match = population.explain("speech", "clinic")
    for direction, benefit in (("a_to_b", match.a_to_b), ("b_to_a", match.b_to_a)):
        total = sum(r.contribution for r in match.reasons if r.direction == direction)
        assert total == pytest.approx(benefit, abs=0.01)
    assert {(r.offer.org, r.need.org) for r in match.reasons} == {("speech", "clinic"), ("clinic", "speech")}


def test_dimension_filter_scores_one_dimension() -> None:
    population = Population.fit(market())
    assert [m.b.id for m in population.partners("clinic", dimension="data")] == ["speech"]
    with pytest.raises(SettingsError, match="unknown dimension 'money'; accepted: data, compute, talent, domain"):
        Population.fit(market(), dimensions=("data", "compute", "talent", "domain")).partners(
            "clinic", dimension="money"
        )


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        (
            ScoringSettings(combiner="median"),
            "unknown combiner 'median'; accepted: harmonic, geometric, arithmetic, min",
        ),
        (ScoringSettings(sector_weight=-1), "sector weight must be a finite number >= 0, got -1"),
        (
            ScoringSettings(cross_border_weight=float("nan")),
            "cross-border weight must be a finite number >= 0, got nan",
        ),
        (ScoringSettings(dimension_weights={"data": float("inf")}), "weight of dimension 'data' must be a finite"),
        (ScoringSettings(dimension_weights={"money": 1}), "unknown dimension 'money' in weights; accepted:"),
        (
            ScoringSettings(dimension_weights={"data": 0, "compute": 0, "talent": 0, "domain": 0}),
            "at least one dimension weight must be above 0",
        ),
    ],
    ids=["combiner", "negative", "nan", "inf", "unknown-dimension", "all-zero"],
)
def test_bad_settings_are_clear_errors(settings_: ScoringSettings, message: str) -> None:
    population = Population.fit(market())
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        population.partners("factory", settings=settings_)


def test_unknown_organisation_suggests() -> None:
    population = Population.fit(market())
    with pytest.raises(UnknownOrganisation, match=r"unknown organisation 'factroy'; did you mean 'factory'"):
        population.resolve("factroy")
    assert population.resolve("FACTORY").id == "factory"
    assert population.resolve("Gpu Host").id == "gpu-host"


def test_incremental_add_matches_refit_vectors() -> None:
    base = Population.fit(market())
    newcomer = profile(
        "newcomer",
        country="IN",
        offers={"data": "factory sensor data from production lines"},
        needs={"compute": "gpu cloud capacity for model training"},
    )
    grown = base.with_profile(newcomer)
    reference = Population(list(grown.profiles), base.vectoriser, base.vectoriser.blocks(grown.profiles), base.settings)
    for org in ("newcomer", "gpu-host"):
        assert [(m.b.id, round(m.score, 9)) for m in grown.partners(org)] == [
            (m.b.id, round(m.score, 9)) for m in reference.partners(org)
        ]
    assert grown.partners("gpu-host")[0].b.id in {"factory", "newcomer"}
    changed = grown.with_profile(profile("newcomer", offers={"domain": "origami"}, needs={"domain": "violins"}))
    assert len(changed) == len(grown) and changed.partners("newcomer") == []
    assert len(changed.without("newcomer")) == len(base)
