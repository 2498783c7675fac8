"""The types of the expression language, and the fact types of matter files that map onto them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """A type of the expression language.

    `kind` is one of bool, int, decimal, str, date, list, dict, any. Enumerations are `str` with
    `values`; the domain types `cn_id` and `uscc` are `str` with a `domain`.
    """

    kind: str
    elem: Type | None = None
    key: Type | None = None
    values: frozenset[str] | None = None
    domain: str | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list[{self.elem}]"
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
        if self.kind in ("list", "dict"):
            return self
        return SCALARS[self.kind]


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


def comparable(a: Type, b: Type) -> bool:
    """Whether == and != make sense between values of these types."""
    if a.kind == "any" or b.kind == "any":
        return True
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
        return a.plain()
    return None
