"""The handle rule of DESIGN §3, table-driven."""

from __future__ import annotations

import pytest
from creator_sync.handles import HANDLE_RULE, InvalidHandle, parse_handle

VALID = [
    ("jane.doe", "jane.doe"),
    ("@jane.doe", "jane.doe"),
    ("Jane.Doe", "jane.doe"),
    ("@JANE_DOE", "jane_doe"),
    ("  jane.doe  ", "jane.doe"),
    ("tiktok.com/@jane.doe", "jane.doe"),
    ("www.tiktok.com/@jane.doe", "jane.doe"),
    ("https://www.tiktok.com/@jane.doe", "jane.doe"),
    ("http://www.tiktok.com/@jane.doe", "jane.doe"),
    ("https://tiktok.com/@Jane.Doe/", "jane.doe"),
    ("https://m.tiktok.com/@jane.doe/video/123?lang=en", "jane.doe"),
    ("https://www.tiktok.com/@jane.doe?is_from_webapp=1&sender_device=pc", "jane.doe"),
    ("https://WWW.TIKTOK.COM/@jane.doe", "jane.doe"),
    ("ab", "ab"),  # length 2
    ("a" * 24, "a" * 24),  # length 24
    ("_", None),
    ("a_", "a_"),
    ("9lives", "9lives"),
    ("x.y.z", "x.y.z"),
    (".hidden", ".hidden"),
    ("__", "__"),
]

INVALID = [
    "",
    "   ",
    "@",
    "a",  # length 1
    "a" * 25,  # length 25
    "@" + "a" * 25,
    "jane.doe.",  # trailing period
    "jane doe",  # space inside
    "jane\tdoe",
    "jane\u00a0doe",  # no-break space
    "jane-doe",
    "jane+doe",
    "jané",  # accented letter
    "jаne",  # Cyrillic а look-alike
    "\u212aate",  # Kelvin sign, lower-cases to an ASCII k
    "ｊａｎｅ",  # full-width look-alikes
    "@@jane",
    "https://www.instagram.com/@jane.doe",
    "https://tiktok.com.evil.example/@jane.doe",
    "https://evil.example/tiktok.com/@jane.doe",
    "https://www.tiktok.com/jane.doe",  # no @
    "https://www.tiktok.com/",
    "https://www.tiktok.com/@",
    "ftp://www.tiktok.com/@jane.doe",
    "https://user:pw@www.tiktok.com/@jane.doe",
    "https://www.tiktok.com:8443/@jane.doe",
    "https://www.tiktok.com:notaport/@jane.doe",
    "https://www.tiktok.com/@jane.doe.",
    "javascript:alert(1)",
    "jane/doe",
]


@pytest.mark.parametrize(("raw", "expected"), [v for v in VALID if v[1] is not None])
def test_valid_handles_are_stored_bare_and_lower_cased(raw: str, expected: str) -> None:
    assert parse_handle(raw) == expected


@pytest.mark.parametrize("raw", INVALID + [v[0] for v in VALID if v[1] is None])
def test_invalid_handles_are_rejected_with_the_rule(raw: str) -> None:
    with pytest.raises(InvalidHandle) as caught:
        parse_handle(raw)
    assert str(caught.value) == HANDLE_RULE
