"""What the strict JSON parser (`jsonfile`) leaves in an application where it would not read a
value as given: every value of a key given twice, or a note in place of text it did not parse.

Both are never valid facts: the validator and the limits check refer them (`INVALID:<path>`,
`INVALID:$`), and the audit record writes them as they are, so nothing given is lost.
"""

from __future__ import annotations

from typing import Any


class Duplicated(list[Any]):
    """Every value of a key given more than once in one JSON object, in the order given.

    Never valid as a fact, a group or a list item: validation refers it as `INVALID:<path>`.
    In an audit record it is written as the list of the values, so nothing given is lost.
    """


class Oversized(dict[str, str]):
    """Stands for an application the parser did not read: too many bytes or too deep.

    Its one member `$` says why; validation refers it as `INVALID:$`.
    """

    def __init__(self, why: str) -> None:
        super().__init__({"$": why})

    @property
    def why(self) -> str:
        return self["$"]
