"""Hostile upstream data [R9]: every odd value gets a defined outcome, and one handle's items never
change another handle's outcome."""

from __future__ import annotations

from typing import Any

import pytest
from creator_sync.scraping.profile_items import MAX_BIO, MAX_DISPLAY_NAME, count, https_url, map_items
from creator_sync.scraping.results import HandleStatus


def author(name: str, **extra: Any) -> dict[str, Any]:
    return {"id": "6812", "name": name, "nickName": "Jane", "fans": 10, "signature": "bio"} | extra


def item(name: str, **extra: Any) -> dict[str, Any]:
    return {"input": name, "authorMeta": author(name, **extra)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, 0),
        (10**15, 10**15),
        (10**15 + 1, None),
        (1e20, None),
        (-1, None),
        (2.0, 2),
        (2.5, None),
        (float("nan"), None),
        (float("inf"), None),
        ("123", 123),
        (" 7 ", 7),
        ("²", None),
        ("١٢", None),
        ("12K", None),
        ("1e3", None),
        ("-3", None),
        ("99999999999999999", None),
        (True, None),
        (None, None),
        ([1], None),
        ({"n": 1}, None),
    ],
)
def test_counts_are_integers_in_range_or_null(raw: object, expected: int | None) -> None:
    assert count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://p16.tiktokcdn.com/a.jpeg", "https://p16.tiktokcdn.com/a.jpeg"),
        ("http://p16.tiktokcdn.com/a.jpeg", None),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("https://", None),
        ("https://a.test/x y", None),
        ("https://a.test/\x00", None),
        ("https://a.test/" + "a" * 2100, None),
        (42, None),
        (None, None),
    ],
)
def test_avatar_urls_are_https_or_null(raw: object, expected: str | None) -> None:
    assert https_url(raw) == expected


def test_texts_lose_nul_controls_and_lone_surrogates() -> None:
    profile = map_items(
        ["jane.doe"],
        [item("jane.doe", nickName="Ja\x00ne\x1b[31m\ud800", signature="line one\nline\x07 two\u0085")],
    )["jane.doe"].profile
    assert profile is not None
    assert profile.display_name == "Jane[31m"
    assert profile.bio == "line one\nline two"
    # what is left encodes as UTF-8 (PostgreSQL text accepts it)
    assert profile.display_name.encode()


def test_oversized_texts_are_cut_to_the_column_length() -> None:
    profile = map_items(["jane.doe"], [item("jane.doe", nickName="n" * 10_000, signature="b" * 100_000)])[
        "jane.doe"
    ].profile
    assert profile is not None
    assert profile.display_name is not None
    assert len(profile.display_name) == MAX_DISPLAY_NAME
    assert profile.bio is not None
    assert len(profile.bio) == MAX_BIO


@pytest.mark.parametrize(
    "bad_author",
    [
        {"id": None},
        {"id": ""},
        {"id": True},
        {"id": ["6812"]},
        {"id": "68 12"},
        {"id": "x" * 65},
    ],
)
def test_a_profile_without_a_usable_id_is_failed_for_good(bad_author: dict[str, Any]) -> None:
    result = map_items(["jane.doe"], [item("jane.doe", **bad_author)])["jane.doe"]
    assert result.status is HandleStatus.FAILED
    assert result.is_final
    assert result.error is not None
    assert "unusable" in result.error


@pytest.mark.parametrize(
    "odd",
    [
        {"fans": {"value": 3}},
        {"nickName": ["a"]},
        {"verified": "true"},
        {"privateAccount": 1},
        {"avatar": {"url": "https://x"}},
        {"signature": 12.5},
    ],
)
def test_wrong_json_types_become_null_not_errors(odd: dict[str, Any]) -> None:
    result = map_items(["jane.doe"], [item("jane.doe", **odd)])["jane.doe"]
    assert result.status is HandleStatus.SUCCEEDED
    assert result.profile is not None
    field = {
        "fans": "followers",
        "nickName": "display_name",
        "verified": "verified",
        "privateAccount": "private_account",
        "avatar": "avatar_url",
        "signature": "bio",
    }[next(iter(odd))]
    assert getattr(result.profile, field) is None


def test_non_object_items_and_authors_are_ignored() -> None:
    items: list[object] = [None, "jane.doe", 3, ["x"], {"input": "jane.doe", "authorMeta": "jane"}]
    result = map_items(["jane.doe"], items)["jane.doe"]
    assert result.status is HandleStatus.TRANSIENT


def test_items_for_handles_nobody_asked_for_are_ignored() -> None:
    results = map_items(["jane.doe"], [item("jane.doe"), item("someone.else", id="999")])
    assert set(results) == {"jane.doe"}
    assert results["jane.doe"].profile is not None
    assert results["jane.doe"].profile.tiktok_user_id == "6812"


def test_conflicting_duplicates_fail_that_handle_only() -> None:
    # Given two items for jane that disagree on who she is, and an honest item for bob
    items = [item("jane.doe", id="1"), item("jane.doe", id="2"), item("bob.bakes", id="3")]
    # When mapped
    results = map_items(["jane.doe", "bob.bakes"], items)
    # Then jane is failed with a readable reason and bob is untouched
    assert results["jane.doe"].status is HandleStatus.FAILED
    assert results["jane.doe"].error is not None
    assert "conflicting" in results["jane.doe"].error
    assert results["bob.bakes"].status is HandleStatus.SUCCEEDED


def test_agreeing_duplicates_are_one_profile() -> None:
    results = map_items(["jane.doe"], [item("jane.doe", fans=5), item("jane.doe", fans=6)])
    assert results["jane.doe"].status is HandleStatus.SUCCEEDED
    assert results["jane.doe"].profile is not None
    assert results["jane.doe"].profile.followers == 5


def test_a_poisoned_item_never_changes_a_batch_mate() -> None:
    honest = map_items(["bob.bakes"], [item("bob.bakes")])["bob.bakes"]
    poisoned = map_items(
        ["jane.doe", "bob.bakes"],
        [item("jane.doe", fans=1e20, nickName="\ud800\x00", heart="²", avatar="http://x"), item("bob.bakes")],
    )
    assert poisoned["bob.bakes"] == honest
    assert poisoned["jane.doe"].status is HandleStatus.SUCCEEDED
    assert poisoned["jane.doe"].profile is not None
    assert (poisoned["jane.doe"].profile.followers, poisoned["jane.doe"].profile.hearts) == (None, None)


def test_a_malformed_url_does_not_break_matching() -> None:
    results = map_items(["jane.doe"], [{"url": "https://[::1/@jane.doe", "errorCode": "NOT_FOUND"}])
    assert results["jane.doe"].status is HandleStatus.TRANSIENT
