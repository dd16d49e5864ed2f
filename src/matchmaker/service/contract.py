"""The OpenAPI contract: FastAPI's schema with the programme's vocabulary written in as enums."""

from __future__ import annotations

from typing import Any

import pycountry

from matchmaker.core.profile import Vocabulary
from matchmaker.core.scoring import combiner_descriptions

_REF = "#/components/schemas/"


def _enum(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


def _vocabulary_schemas(vocabulary: Vocabulary) -> dict[str, dict[str, Any]]:
    return {
        "Dimension": _enum(
            list(vocabulary.dimensions),
            "A dimension offers and needs are described in (GET /v1/vocabulary describes each).",
        ),
        "Kind": _enum(list(vocabulary.kinds), "A kind of organisation."),
        "Sector": _enum(list(vocabulary.sectors), "A sector an organisation works in or for."),
        "Tag": _enum(list(vocabulary.tags), "A shared keyword offers and needs meet on."),
        "CountryCode": _enum(sorted(c.alpha_2 for c in pycountry.countries), "ISO 3166-1 alpha-2 country code."),
        "Combiner": {
            "type": "string",
            "enum": list(combiner_descriptions()),
            "description": "; ".join(f"{k}: {v}" for k, v in combiner_descriptions().items()),
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _drop_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` becomes X: an optional query parameter is left out, never sent as null."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**rest[0], **merged}
    return schema


# Query parameters whose accepted values come from the vocabulary or a registry.
_PARAMETER_ENUMS = {
    "dimension": "Dimension",
    "kind": "Kind",
    "sector": "Sector",
    "country": "CountryCode",
    "combiner": "Combiner",
}


# A government needs its evidence, and evidence needs a government: both are given, or neither.
GOVERNMENT_RULE = [
    {
        "if": {"properties": {"government": {"type": "string"}}, "required": ["government"]},
        "then": {"properties": {"government_evidence": {"type": "object"}}, "required": ["government_evidence"]},
    },
    {
        "if": {"properties": {"government_evidence": {"type": "object"}}, "required": ["government_evidence"]},
        "then": {"properties": {"government": {"type": "string"}}, "required": ["government"]},
    },
]


def _item_in(item: dict[str, Any], vocabulary: Vocabulary, dimension: str) -> dict[str, Any]:
    """``ItemIn`` for one dimension: the attributes that apply there, each with its accepted values."""
    attributes = dict(item["properties"]["attributes"])
    declared = next(s for s in attributes.pop("anyOf") if s.get("type") == "object")
    applying = {
        name: {
            "type": "array",
            "items": {"type": "string", "enum": list(spec.values)},
            "minItems": 1,
            "maxItems": next(iter(declared["patternProperties"].values()))["maxItems"],
        }
        for name, spec in vocabulary.attributes.items()
        if dimension in spec.dimensions
    }
    attributes["anyOf"] = [
        {
            "type": "object",
            "additionalProperties": False,
            "properties": applying,
            "maxProperties": declared["maxProperties"],
        },
        {"type": "null"},
    ]
    return {**item, "properties": {**item["properties"], "attributes": attributes}}


def apply_vocabulary(schema: dict[str, Any], vocabulary: Vocabulary, weights_pattern: str) -> dict[str, Any]:
    """Write ``vocabulary`` into ``schema`` (in place, returned): accepted kinds, sectors, tags, dimensions."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(_vocabulary_schemas(vocabulary))
    profile = components["ProfileIn"]["properties"]
    profile["kind"] = _ref("Kind")
    profile["country"] = _ref("CountryCode")
    profile["presence"]["items"] = _ref("CountryCode")
    if "government" in profile:
        described = {k: v for k, v in profile["government"].items() if k in ("title", "description")}
        profile["government"] = {**described, "anyOf": [_ref("CountryCode"), {"type": "null"}]}
        components["ProfileIn"]["allOf"] = GOVERNMENT_RULE
    profile["sectors"]["items"] = _ref("Sector")
    components["ItemIn"]["properties"]["tags"]["items"] = _ref("Tag")
    # An attribute applies in some dimensions only (the vocabulary says which): one item schema each.
    item_names = {d: f"ItemIn-{d}" for d in vocabulary.dimensions}
    for dimension, name in item_names.items():
        components[name] = _item_in(components["ItemIn"], vocabulary, dimension)
    for side in ("offers", "needs"):
        items = profile[side]["additionalProperties"]
        profile[side] = {
            "type": "object",
            "default": {},
            "additionalProperties": False,
            "properties": {d: {**items, "items": _ref(name)} for d, name in item_names.items()},
            "description": "Dimension -> items; a dimension may be left out.",
        }
    del components["ItemIn"]
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _drop_null(parameter["schema"])
                name = parameter["name"]
                if parameter["in"] == "query" and name in _PARAMETER_ENUMS:
                    parameter["schema"] = _ref(_PARAMETER_ENUMS[name])
                elif parameter["in"] == "query" and name == "weights":
                    parameter["schema"] = {**parameter["schema"], "pattern": weights_pattern}
    return schema
