"""Values as durable_rules compares them: JSON strings whose byte order is the value order.

durable_rules compares numbers as C `long long` or `double` and strings with `strncmp` on the raw
JSON text. Neither is exact for our values (Python ints are unbounded, decimals are exact, JSON
escapes change the byte order), so every non-boolean value is posted as a string over a small
ASCII alphabet (digits, `a`–`f`, `-`, `:`) whose byte order equals the order of the values:

- numbers (int and decimal alike, so `1 == 1.00`): an order-preserving decimal code;
- strings: the hexadecimal of their UTF-8 bytes (byte order of UTF-8 is code point order);
- dates: ISO `YYYY-MM-DD`;
- booleans stay JSON booleans (durable compares them for equality only).

Every character of these codes sorts above `"`, so durable's comparison of an unterminated
string in the message buffer with a longer one still gives the right answer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..errors import BackendError

MAX_EXPONENT_DIGITS = 9
"""Numbers whose decimal exponent has more digits than this cannot be posted."""


def _complement(digits: str) -> str:
    return digits.translate(_COMPLEMENT)


_COMPLEMENT = str.maketrans("0123456789", "9876543210")


def _natural(n: int) -> str:
    """A prefix-free, order-preserving code of a natural number: its digit count, then digits."""
    text = str(n)
    if len(text) > MAX_EXPONENT_DIGITS:
        raise BackendError(f"a number with an exponent of {len(text)} digits cannot be posted")
    return str(len(text)) + text


def _exponent(e: int) -> str:
    return "5" + _natural(e) if e >= 0 else "4" + _complement(_natural(-e))


def _digits(value: int | Decimal) -> tuple[int, str, int]:
    """Sign (-1, 0, 1), significant digits without trailing zeros, and the decimal exponent."""
    if isinstance(value, int):
        value = Decimal(value)
    if not value.is_finite():
        raise BackendError(f"{value} cannot be posted to durable_rules")
    sign, digit_tuple, exp = value.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return 0, "", 0
    assert isinstance(exp, int)
    return (-1 if sign else 1), digits.rstrip("0"), exp + len(digits) - 1


def encode_number(value: int | Decimal) -> str:
    """The order-preserving code of a number: `1` for zero, `2…` positive, `0…:` negative.

    Decimal infinities (`0 ** -1.5` is one) are `-` and `3`, below and above every number.
    """
    if isinstance(value, Decimal) and value.is_infinite():
        return "-" if value < 0 else "3"
    sign, digits, exponent = _digits(value)
    if sign == 0:
        return "1"
    if sign > 0:
        return "2" + _exponent(exponent) + digits
    return "0" + _complement(_exponent(exponent)) + _complement(digits) + ":"


MAX_STRING_BYTES = 30_000
"""durable_rules keeps string lengths in an `unsigned short`: longer codes would compare wrong."""


def encode_string(value: str) -> str:
    data = value.encode("utf-8", "surrogatepass")
    if len(data) > MAX_STRING_BYTES:
        raise BackendError(f"a string of {len(data)} bytes cannot be posted to durable_rules")
    return data.hex()


def encode(value: Any) -> Any:
    """The JSON value durable_rules is given for a value of the expression language."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return encode_number(value)
    if isinstance(value, str):
        return encode_string(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    raise BackendError(f"a value of type {type(value).__name__} cannot be posted to durable_rules")


def postable(kind: str) -> bool:
    """Whether values of this type kind can be posted and compared by durable_rules."""
    return kind in ("bool", "int", "decimal", "str", "date")
