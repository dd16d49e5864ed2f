"""Synthetic populations: N realistic profiles drawn from the mixes of a real profile set.

Every draw comes from the source profiles: the kinds, home countries and countries of presence, the
number and choice of sectors, which dimensions an organisation offers and needs and how many items it
has there, and the items themselves. Item text is varied by recombining two items of the same side and
dimension or by qualifying one with a sector or country, so the word model sees varied text; strengths
are occasionally moved by one step. Every item's evidence is flagged background knowledge naming the
generator and its seed, never a quote. The output is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import pycountry

from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import MAX_STRENGTH, SIDES, Evidence, Item, Profile, Side
from matchmaker.core.profile_set import ProfileSet

T = TypeVar("T")
MAX_DESCRIPTION = 300
MAX_SUMMARY = 1000
_PLACES = (
    "Kaveri",
    "Sakura",
    "Ganga",
    "Fuji",
    "Nilgiri",
    "Kamo",
    "Indus",
    "Hokkai",
    "Deccan",
    "Yamato",
    "Konkan",
    "Shinano",
    "Narmada",
    "Biwa",
    "Malabar",
    "Tsukuba",
    "Godavari",
    "Kii",
    "Aravalli",
    "Tama",
    "Sahyadri",
    "Setouchi",
    "Krishna",
    "Hakone",
    "Vindhya",
    "Izumo",
    "Tapti",
    "Aso",
    "Satpura",
    "Nagara",
)
_FIELDS = (
    "Data",
    "Compute",
    "Robotics",
    "Health",
    "Speech",
    "Cloud",
    "Vision",
    "Analytics",
    "Learning",
    "Language",
    "Sensor",
    "Quantum",
    "Logistics",
    "Fintech",
    "Mobility",
    "Energy",
    "Silicon",
    "Signal",
    "Insight",
    "Automation",
)
_SUFFIXES = {
    "startup": ("Labs", "AI", "Technologies", "Systems"),
    "corporate": ("Corporation", "Industries", "Holdings", "Solutions"),
    "research": ("Research Institute", "Research Centre"),
    "academic": ("University", "Institute of Technology"),
    "government": ("Agency", "Authority", "Mission"),
    "community": ("Community", "Network", "Forum"),
    "investor": ("Ventures", "Capital", "Partners"),
    "nonprofit": ("Foundation", "Trust"),
}
_GENERIC_SUFFIXES = ("Group", "Organisation", "Collective")
_QUALIFIERS = (
    "at national scale",
    "for start-ups and small firms",
    "through a pilot programme",
    "with long-term support",
    "for enterprise customers",
    "under an open licence",
)


@dataclass(frozen=True)
class _Mixes:
    """What a synthetic population is drawn from: the source profiles' mixes and item pools."""

    kinds: tuple[str, ...]
    countries: tuple[str, ...]
    presence_extras: tuple[tuple[str, ...], ...]
    sector_counts: tuple[int, ...]
    sectors: tuple[str, ...]
    sector_weights: tuple[float, ...]
    patterns: dict[Side, tuple[tuple[tuple[str, int], ...], ...]]
    pools: dict[tuple[Side, str], tuple[Item, ...]]


def _mixes(profiles: Sequence[Profile]) -> _Mixes:
    sector_counter = Counter(s for p in profiles for s in p.sectors)
    sectors = tuple(sorted(sector_counter))
    pools: dict[tuple[Side, str], list[Item]] = {}
    for p in profiles:
        for side, dimension, _, item in p.iter_items():
            pools.setdefault((side, dimension), []).append(item)
    patterns = {
        side: tuple(tuple((d, len(items)) for d, items in p.items(side).items() if items) for p in profiles)
        for side in SIDES
    }
    return _Mixes(
        kinds=tuple(p.kind for p in profiles),
        countries=tuple(p.country for p in profiles),
        presence_extras=tuple(tuple(sorted(set(p.presence) - {p.country})) for p in profiles),
        sector_counts=tuple(len(p.sectors) for p in profiles),
        sectors=sectors,
        sector_weights=tuple(float(sector_counter[s]) for s in sectors),
        patterns=patterns,
        pools={key: tuple(items) for key, items in pools.items()},
    )


@lru_cache(maxsize=512)
def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country is not None else code


def _clause(text: str) -> str:
    return text.strip().rstrip(".")


def _lower_first(text: str) -> str:
    # Keep acronyms (GPU, AI) as written; lower an ordinary first word.
    first = text.split(" ", 1)[0]
    return text if first[1:2].isupper() else text[:1].lower() + text[1:]


class _Generator:
    """One seeded draw of a population; items are shared between profiles when their text repeats."""

    def __init__(self, source: ProfileSet, seed: int) -> None:
        if not source.profiles:
            raise MatchmakerError("cannot synthesise from no profiles; give a profile set with at least one")
        self.mixes = _mixes(source.profiles)
        if not self.mixes.pools:
            raise MatchmakerError("cannot synthesise: the source profiles have no offer or need items")
        # random.Random: its draws are stable across Python versions, so a seed names one population.
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.evidence = Evidence(background=f"synthetic profile generated by matchmaker synth (seed {seed})")
        self.items: dict[tuple[str, int, tuple[str, ...]], Item] = {}
        self.names: Counter[str] = Counter()

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def item(self, side: Side, dimension: str, sectors: Sequence[str], countries: Sequence[str]) -> Item:
        pool = self.mixes.pools[(side, dimension)]
        base = self.pick(pool)
        description, tags = base.description, list(base.tags)
        roll = self.rng.random()
        if roll < 0.3 and len(pool) > 1:
            other = self.pick(pool)
            joined = f"{_clause(description)}, together with {_lower_first(_clause(other.description))}."
            if other is not base and len(joined) <= MAX_DESCRIPTION:
                description = joined
                tags += other.tags
        elif roll < 0.75:
            choice = self.rng.randrange(3)
            if choice == 0:
                qualifier = f"for the {self.pick(sectors).replace('-', ' ')} sector"
            elif choice == 1:
                qualifier = f"in {_country_name(self.pick(countries))}"
            else:
                qualifier = self.pick(_QUALIFIERS)
            qualified = f"{_clause(description)} {qualifier}."
            if len(qualified) <= MAX_DESCRIPTION:
                description = qualified
        strength = base.strength
        if self.rng.random() < 0.25:
            strength = min(MAX_STRENGTH, max(1, strength + self.rng.choice((-1, 1))))
        unique_tags = tuple(dict.fromkeys(tags))[:12]
        key = (description, strength, unique_tags)
        found = self.items.get(key)
        if found is None:
            found = self.items[key] = Item(
                description=description, strength=strength, tags=unique_tags, evidence=self.evidence
            )
        return found

    def name(self, kind: str) -> str:
        name = f"{self.pick(_PLACES)} {self.pick(_FIELDS)} {self.pick(_SUFFIXES.get(kind, _GENERIC_SUFFIXES))}"
        self.names[name] += 1
        count = self.names[name]
        return name if count == 1 else f"{name} {count}"

    def profile(self, org_id: str) -> Profile:
        m, rng = self.mixes, self.rng
        kind = self.pick(m.kinds)
        country = self.pick(m.countries)
        extras = [c for c in self.pick(m.presence_extras) if c != country]
        presence = (country, *extras)
        n_sectors = min(self.pick(m.sector_counts), len(m.sectors))
        sectors: tuple[str, ...] = ()
        while len(sectors) < n_sectors:  # weighted by frequency, without replacement
            sector = rng.choices(m.sectors, m.sector_weights)[0]
            if sector not in sectors:
                sectors += (sector,)
        sides: dict[Side, dict[str, tuple[Item, ...]]] = {}
        for side in SIDES:
            pattern = self.pick(m.patterns[side])
            sides[side] = {
                dimension: tuple(self.item(side, dimension, sectors, presence) for _ in range(count))
                for dimension, count in pattern
                if (side, dimension) in m.pools
            }
        name = self.name(kind)
        return Profile(
            id=org_id,
            name=name,
            country=country,
            presence=presence,
            kind=kind,
            sectors=sectors,
            summary=self.summary(name, kind, country, sectors, sides),
            offers=sides["offers"],
            needs=sides["needs"],
        )

    def summary(
        self, name: str, kind: str, country: str, sectors: Sequence[str], sides: dict[Side, dict[str, tuple[Item, ...]]]
    ) -> str:
        fields = ", ".join(s.replace("-", " ") for s in sectors)
        text = f"{name} is a synthetic {kind} organisation based in {_country_name(country)}, working in {fields}."
        phrases: tuple[tuple[Side, str], ...] = (("offers", "It offers"), ("needs", "It needs"))
        for side, verb in phrases:
            first = next((items[0] for items in sides[side].values() if items), None)
            if first is not None:
                sentence = f" {verb} {_lower_first(_clause(first.description))}."
                if len(text) + len(sentence) <= MAX_SUMMARY:
                    text += sentence
        return text


def synthesise(source: ProfileSet, n: int, seed: int = 0) -> ProfileSet:
    """``n`` synthetic profiles with the mixes of ``source``, deterministic for ``seed``.

    Ids are ``synth-<seed>-<number>``; the vocabulary is the source's, and every profile is valid
    under it. Items whose text and strength repeat are shared objects, so large populations stay small
    in memory.

    Parameters
    ----------
    source : ProfileSet
        The real profiles whose kind, country, sector, dimension and strength mixes are copied.
    n : int
        How many profiles to generate (at least 1).
    seed : int, default=0
        The random seed; the same seed gives the same profiles.

    Returns
    -------
    ProfileSet
        The synthetic profiles with the source's vocabulary.

    Examples
    --------
    >>> from matchmaker.loading import default_profiles_dir, load_folder
    >>> shipped = load_folder(default_profiles_dir())
    >>> population = synthesise(shipped, 3, seed=7)
    >>> [p.id for p in population.profiles]
    ['synth-7-0', 'synth-7-1', 'synth-7-2']
    >>> synthesise(shipped, 3, seed=7).profiles == population.profiles
    True
    >>> population.profiles[0].offers[next(iter(population.profiles[0].offers))][0].evidence.background
    'synthetic profile generated by matchmaker synth (seed 7)'
    """
    if n < 1:
        raise MatchmakerError(f"the number of profiles must be at least 1, got {n}")
    generator = _Generator(source, seed)
    width = len(str(n - 1))
    profiles = tuple(generator.profile(f"synth-{seed}-{k:0{width}d}") for k in range(n))
    digest = hashlib.sha256(f"synth {n} {seed} {source.version}".encode()).hexdigest()[:12]
    return ProfileSet(profiles, source.vocabulary, f"synth(n={n}, seed={seed}, from {source.location})", digest)
