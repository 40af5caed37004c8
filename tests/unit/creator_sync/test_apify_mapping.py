"""Mapping the TikTok profile actor's items back to the requested handles."""

from __future__ import annotations

from typing import Any

from creator_sync.adapters.apify import actor_input
from creator_sync.scraping.profile_items import map_items
from creator_sync.scraping.results import HandleStatus


def author(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "68",
        "name": name,
        "nickName": name.title(),
        "fans": 10,
        "following": 2,
        "heart": 30,
        "video": 4,
        "verified": True,
        "privateAccount": False,
        "signature": "bio",
        "avatar": "https://a/x.jpg",
    } | extra


def test_items_are_matched_by_input_case_insensitively() -> None:
    results = map_items(["jane.doe"], [{"input": "Jane.Doe", "authorMeta": author("jane.doe")}])
    assert results["jane.doe"].status is HandleStatus.SUCCEEDED


def test_items_are_matched_by_author_name_when_input_is_missing() -> None:
    results = map_items(["jane.doe"], [{"authorMeta": author("JANE.DOE")}])
    assert results["jane.doe"].status is HandleStatus.SUCCEEDED


def test_items_are_matched_by_the_handle_in_the_url() -> None:
    results = map_items(
        ["ghost.user"],
        [{"url": "https://www.tiktok.com/@Ghost.User", "errorCode": "NOT_FOUND", "error": "gone"}],
    )
    assert results["ghost.user"].status is HandleStatus.NOT_FOUND
    assert results["ghost.user"].error == "gone"


def test_every_mapped_field_comes_from_author_meta() -> None:
    profile = map_items(
        ["jane.doe"], [{"input": "jane.doe", "authorMeta": author("jane.doe", bioLink={"link": "x"})}]
    )["jane.doe"].profile
    assert profile is not None
    assert profile.model_dump() == {
        "tiktok_user_id": "68",
        "display_name": "Jane.Doe",
        "avatar_url": "https://a/x.jpg",
        "bio": "bio",
        "followers": 10,
        "following": 2,
        "hearts": 30,
        "videos": 4,
        "verified": True,
        "private_account": False,
    }


def test_the_first_item_with_author_meta_wins_over_an_error_item() -> None:
    items: list[dict[str, Any]] = [
        {"input": "jane.doe", "errorCode": "NOT_FOUND"},
        {"input": "jane.doe", "authorMeta": author("jane.doe")},
    ]
    assert map_items(["jane.doe"], items)["jane.doe"].status is HandleStatus.SUCCEEDED


def test_private_is_final() -> None:
    result = map_items(["p.user"], [{"input": "p.user", "errorCode": "PROFILE_PRIVATE", "error": "private"}])[
        "p.user"
    ]
    assert result.status is HandleStatus.PRIVATE
    assert result.is_final


def test_a_handle_without_any_item_is_transient_not_not_found() -> None:
    result = map_items(["a.user", "b.user"], [{"input": "a.user", "authorMeta": author("a.user")}])["b.user"]
    assert result.status is HandleStatus.TRANSIENT
    assert not result.is_final


def test_an_unknown_error_code_is_transient() -> None:
    result = map_items(["a.user"], [{"input": "a.user", "errorCode": "BLOCKED", "error": "try later"}])[
        "a.user"
    ]
    assert (result.status, result.error) == (HandleStatus.TRANSIENT, "try later")


def test_odd_values_are_dropped_not_trusted() -> None:
    item = {
        "input": "a.user",
        "authorMeta": author("a.user", fans=-5, heart="12", video=True, verified="yes"),
    }
    profile = map_items(["a.user"], [item])["a.user"].profile
    assert profile is not None
    assert (profile.followers, profile.hearts, profile.videos, profile.tiktok_user_id, profile.verified) == (
        None,
        12,
        None,
        "68",
        None,
    )


def test_the_actor_input_asks_for_one_result_per_profile_and_no_downloads() -> None:
    assert actor_input(["a.user", "b.user"]) == {
        "profiles": ["a.user", "b.user"],
        "resultsPerPage": 1,
        "excludePinnedPosts": False,
        "shouldDownloadVideos": False,
        "shouldDownloadCovers": False,
        "shouldDownloadAvatars": False,
    }
