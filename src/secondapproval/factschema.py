"""The facts of a matter version as a JSON Schema (2020-12): what a platform sends to decide.

Built from the fact declarations alone: the dotted paths nested (DESIGN §10), each fact's type,
pattern and enum values, its label and description. Nothing is `required`: a missing fact is a
referral, not a malformed request (the service answers it with a decision). Undeclared members are
marked `additionalProperties: false` for the same reason: the schema says what can be approved,
the engine decides what was sent. `x-secondapproval` on a fact names its source and `pii`.
"""

from __future__ import annotations

from typing import Any

from .ruleset import FactSpec, FieldSpec, Matter

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NUMBER_TEXT = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$"
_MONEY_TEXT = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?$"
_SCALARS: dict[str, dict[str, Any]] = {
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "str": {"type": "string"},
    "decimal": {
        "anyOf": [
            {"type": "integer"},
            {"type": "number"},
            {"type": "string", "pattern": _NUMBER_TEXT},
        ]
    },
    "money": {
        "anyOf": [
            {"type": "integer"},
            {"type": "number"},
            {"type": "string", "pattern": _MONEY_TEXT},
        ]
    },
    "date": {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "cn_id": {"type": "string", "pattern": r"^[0-9]{17}[0-9X]$"},
    "uscc": {
        "type": "string",
        "pattern": r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    },
}


def facts_schema(matter: Matter) -> dict[str, Any]:
    """The JSON Schema of the `facts` object of a matter version's applications."""
    root: dict[str, Any] = _object()
    for path, spec in sorted(matter.inputs.items()):
        *parents, leaf = path.split(".")
        node = root
        for key in parents:
            node = node["properties"].setdefault(key, _object())
        node["properties"][leaf] = fact_schema(spec)
    root["title"] = f"{matter.id} {matter.version}"
    return root


def fact_schema(spec: FactSpec) -> dict[str, Any]:
    """One fact's schema, with its label and where it comes from."""
    if spec.type == "list":
        item = (
            _record(spec.fields or {})
            if spec.of == "record"
            else _scalar(spec.of or "str", spec.values, None)
        )
        out: dict[str, Any] = {"type": "array", "items": item}
    else:
        out = _scalar(spec.type, spec.values, spec.pattern)
    label = spec.label
    if label is not None:
        out["title"] = getattr(label, "zh", None) or str(label)
    if spec.description:
        out["description"] = spec.description
    out["x-secondapproval"] = {"source": spec.source or "applicant", "pii": spec.pii}
    return out


def _scalar(kind: str, values: list[str] | None, pattern: str | None) -> dict[str, Any]:
    if kind == "enum":
        return {"type": "string", "enum": list(values or ())}
    out = dict(_SCALARS[kind])
    if pattern is not None and kind == "str":
        out["pattern"] = f"^(?:{pattern})$"
    return out


def _record(fields: dict[str, FieldSpec]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            name: _scalar(f.type, f.values, f.pattern) for name, f in sorted(fields.items())
        },
        "required": sorted(name for name, f in fields.items() if not f.optional),
        "additionalProperties": False,
    }


def _object() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "additionalProperties": False}
