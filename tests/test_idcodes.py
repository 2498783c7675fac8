"""GB 11643 citizen ID numbers and GB 32100 credit codes: valid codes pass, corrupted ones fail."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secondapproval.idcodes import (
    check_cn_id,
    check_uscc,
    cn_id_check_character,
    uscc_check_character,
)

VALID_IDS = ["11010519491231002X", "440304199001010011", "440304201506010025"]
VALID_USCC = ["91110000600037341L"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_ids_pass(number: str) -> None:
    """Standard examples and generated numbers pass every check."""
    assert check_cn_id(number) == number


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("340524198001010013", "check character"),  # the standard's example of a wrong check digit
        ("11010519491231002x", "upper-case X"),  # lower-case x
        ("110105194912310", "15-digit"),  # old format, no check digit
        ("11010519490231002X", ""),  # 31 February… adjusted below
        ("99999919900101001X", ""),  # no such region
        ("1101051949123100", "17 digits"),
        ("1101051949123100AX", ""),
        ("110105 19491231002X", "17 digits"),
    ],
)
def test_corrupted_ids_fail(number: str, why: str) -> None:
    """Wrong check digits, impossible dates, unknown regions and non-canonical forms fail."""
    if number == "11010519490231002X":
        number = number[:17] + cn_id_check_character(number[:17])  # bad date, right check digit
    with pytest.raises(ValueError, match=why or None):
        check_cn_id(number)


@given(st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_detected(position: int, delta: int) -> None:
    """MOD 11-2 detects every single-digit substitution in the first 17 digits."""
    number = VALID_IDS[1]
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValueError):
        check_cn_id(changed)


def test_uscc_valid_and_check_character() -> None:
    """The standard's example passes and its check character is recomputed."""
    assert check_uscc(VALID_USCC[0]) == VALID_USCC[0]
    assert uscc_check_character(VALID_USCC[0][:17]) == "L"


@given(st.integers(0, 17), st.integers(1, 30))
def test_any_single_uscc_character_change_is_detected(position: int, delta: int) -> None:
    """MOD 31-3 detects every single-character substitution."""
    code = VALID_USCC[0]
    value = (USCC_ALPHABET.index(code[position]) + delta) % 31
    changed = code[:position] + USCC_ALPHABET[value] + code[position + 1 :]
    with pytest.raises(ValueError):
        check_uscc(changed)


@pytest.mark.parametrize("code", ["91350100M0001TGQXM", "91350211M0000XUF46", "9111000060003734IL"])
def test_nonconforming_uscc_fail(code: str) -> None:
    """Known nonconforming (legal, but failing the check) codes are not valid: they refer."""
    with pytest.raises(ValueError):
        check_uscc(code)


id_numbers = st.builds(
    lambda region, born, seq, check: region + born + seq + check,
    st.sampled_from(["110105", "440304", "442000", "999999", "440300", "110100", "350203"]),
    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.strftime("%Y%m%d"))
    | st.text("0123456789", min_size=8, max_size=8),
    st.text("0123456789", min_size=3, max_size=3),
    st.sampled_from(list("0123456789X")),
)


def _stdnum_first_issue(number: str) -> bool:
    """stdnum's verdict with the one departure idcodes documents: a region code made after the
    holder's birth is valid (the number carries the code in use at its first issue), so only a
    code whose every span ended before the birth year is refused. The check character and the
    birth date are stdnum's own checks (`id_numbers` are 17 digits and a check character); the
    spans are stdnum's own data, a code without a county in them not valid."""
    from stdnum import numdb
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    try:
        if number[-1] != ric.calc_check_digit(number):
            return False
        year = ric.get_birth_date(number).year
    except ValidationError:
        return False
    found = numdb.get("cn/loc").info(number[:6])
    counties = {k: v for _, props in found for k, v in props.items()}.get("county")
    if counties is None:
        return False
    for county in counties.split(","):
        if not county.startswith("["):
            return True
        end = county[1:].split("]")[0].split("-")[1]
        if not end or year <= int(end):
            return True
    return False


@given(id_numbers)
def test_cn_id_agrees_with_stdnum(number: str) -> None:
    """The indexed check gives stdnum's verdict on every canonical 18-character number, but for
    a code younger than its holder, which is valid (see `_stdnum_first_issue`)."""
    try:
        check_cn_id(number)
        ours = True
    except ValueError:
        ours = False
    assert ours == _stdnum_first_issue(number)


def test_stdnum_refuses_a_code_younger_than_its_holder_and_we_do_not() -> None:
    """The departure itself, on the number Hypothesis found: 350203 (Siming district, Xiamen,
    from 1983 in stdnum's data) for a person born in 1957."""
    from stdnum.cn import ric

    number = "35020319570602549X"
    assert not ric.is_valid(number)
    assert check_cn_id(number) == number
    assert _stdnum_first_issue(number)


@given(st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=18, max_size=18))
def test_uscc_agrees_with_stdnum(code: str) -> None:
    """The credit-code check gives stdnum's verdict."""
    from stdnum.cn import uscc

    try:
        check_uscc(code)
        ours = True
    except ValueError:
        ours = False
    assert ours == uscc.is_valid(code)
