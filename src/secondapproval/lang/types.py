"""The types of the expression language, and the fact types of matter files that map onto them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """A type of the expression language.

    `kind` is one of bool, int, decimal, str, date, list, dict, record, any. Enumerations are
    `str` with `values`; the domain types `cn_id` and `uscc` are `str` with a `domain`. A record
    (an item of a list of records) has `fields`, each a name and a scalar type; a rule reads them
    only as `it.<field>` inside a quantifier.
    """

    kind: str
    elem: Type | None = None
    key: Type | None = None
    values: frozenset[str] | None = None
    domain: str | None = None
    fields: tuple[tuple[str, Type], ...] | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list[{self.elem}]"
        if self.kind == "record":
            return "record(" + ", ".join(f"{k}: {t}" for k, t in self.fields or ()) + ")"
        if self.kind == "dict":
            return f"dict[{self.key}, {self.elem}]"
        if self.domain:
            return self.domain
        if self.values is not None:
            return "enum(" + ", ".join(sorted(self.values)) + ")"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "decimal")

    def plain(self) -> Type:
        """The type without enumeration values or domain: what operators care about."""
        if self.kind in ("list", "dict", "record"):
            return self
        return SCALARS[self.kind]

    def field(self, name: str) -> Type | None:
        """The type of a record's field, or None (no such field, or not a record)."""
        return dict(self.fields or ()).get(name)


BOOL = Type("bool")
INT = Type("int")
DECIMAL = Type("decimal")
STR = Type("str")
DATE = Type("date")
ANY = Type("any")
SCALARS = {t.kind: t for t in (BOOL, INT, DECIMAL, STR, DATE, ANY)}
CN_ID = Type("str", domain="cn_id")
USCC = Type("str", domain="uscc")


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def record_of(fields: dict[str, Type]) -> Type:
    return Type("record", fields=tuple(fields.items()))


def comparable(a: Type, b: Type) -> bool:
    """Whether == and != make sense between values of these types."""
    if a.kind == "any" or b.kind == "any":
        return True
    if a.kind == "record" or b.kind == "record":
        return False  # a record is compared by its fields (`it.relation == "child"`), never whole
    if a.numeric and b.numeric:
        return True
    if a.kind == "list" and b.kind == "list":
        return a.elem is None or b.elem is None or comparable(a.elem, b.elem)
    return a.kind == b.kind


def orderable(a: Type, b: Type) -> bool:
    """Whether <, <=, > and >= make sense between values of these types."""
    if a.numeric and b.numeric:
        return True
    return a.kind == b.kind and a.kind in ("str", "date")


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values (list elements, min/max arguments), or None."""
    if a.numeric and b.numeric:
        return DECIMAL if DECIMAL.kind in (a.kind, b.kind) else INT
    if a.kind == b.kind:
        if a.kind == "list":
            # an empty list literal (`[]`, elements of any type) unifies with every list
            if a.elem is None or a.elem == ANY:
                return b
            if b.elem is None or b.elem == ANY:
                return a
            e = unify(a.elem, b.elem)
            return list_of(e) if e else None
        if a == b:
            return a
        return None if a.kind == "record" else a.plain()
    return None
