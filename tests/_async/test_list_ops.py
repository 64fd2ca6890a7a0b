"""Atomic list operations (issue #3): each changes Redis first, then the local list."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, RedisCommandError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Address(BaseModel):
    street: str
    city: str


class Playlist(BaseRedisModel):
    songs: list[str] = []
    scores: list[int] = []
    grid: list[list[int]] = []
    stops: list[Address] = []


async def saved_playlist(**fields) -> Playlist:
    playlist = Playlist(**fields)
    await playlist.save()
    return playlist


async def test_aappend_adds_the_item_in_redis_and_locally(client, stored):
    playlist = await saved_playlist(songs=["a"])
    await playlist.songs.aappend("b")
    assert (await stored.doc(playlist.key))["songs"] == ["a", "b"]
    assert playlist.songs == ["a", "b"]


async def test_aextend_adds_every_item_in_order(client, stored):
    playlist = await saved_playlist(songs=["a"])
    await playlist.songs.aextend(["b", "c", "d"])
    assert (await stored.doc(playlist.key))["songs"] == ["a", "b", "c", "d"]
    assert playlist.songs == ["a", "b", "c", "d"]


async def test_aextend_accepts_any_iterable(client, stored):
    playlist = await saved_playlist()
    await playlist.songs.aextend(s for s in ("x", "y"))
    assert (await stored.doc(playlist.key))["songs"] == ["x", "y"]
    assert playlist.songs == ["x", "y"]


async def test_aextend_with_no_items_changes_nothing(client, stored):
    playlist = await saved_playlist(songs=["a"])
    await playlist.songs.aextend([])
    assert (await stored.doc(playlist.key))["songs"] == ["a"]
    assert playlist.songs == ["a"]


@pytest.mark.parametrize("index", [0, 1, 2, 3, 99, -1, -2, -3, -99])
async def test_ainsert_places_the_item_like_list_insert(client, stored, index):
    playlist = await saved_playlist(songs=["a", "b", "c"])
    expected = ["a", "b", "c"]
    expected.insert(index, "new")
    await playlist.songs.ainsert(index, "new")
    assert (await stored.doc(playlist.key))["songs"] == expected
    assert playlist.songs == expected


async def test_ainsert_into_an_empty_list(client, stored):
    playlist = await saved_playlist()
    await playlist.songs.ainsert(5, "only")
    assert (await stored.doc(playlist.key))["songs"] == ["only"]
    assert playlist.songs == ["only"]


async def test_apop_without_index_removes_and_returns_the_last_item(client, stored):
    playlist = await saved_playlist(songs=["a", "b", "c"])
    assert await playlist.songs.apop() == "c"
    assert (await stored.doc(playlist.key))["songs"] == ["a", "b"]
    assert playlist.songs == ["a", "b"]


@pytest.mark.parametrize(("index", "item"), [(0, "a"), (1, "b"), (2, "c"), (-1, "c"), (-2, "b"), (-3, "a")])
async def test_apop_at_an_index_removes_and_returns_that_item(client, stored, index, item):
    playlist = await saved_playlist(songs=["a", "b", "c"])
    expected = ["a", "b", "c"]
    expected.pop(index)
    assert await playlist.songs.apop(index) == item
    assert (await stored.doc(playlist.key))["songs"] == expected
    assert playlist.songs == expected


async def test_apop_returns_the_decoded_item_not_json_text(client, stored):
    playlist = await saved_playlist(songs=['he said "hi"', "back\\slash"])
    assert await playlist.songs.apop() == "back\\slash"
    assert await playlist.songs.apop(0) == 'he said "hi"'
    assert (await stored.doc(playlist.key))["songs"] == []


async def test_apop_returns_an_int_for_an_int_list(client, stored):
    playlist = await saved_playlist(scores=[7, 8])
    popped = await playlist.scores.apop(0)
    assert popped == 7
    assert type(popped) is int


async def test_apop_on_an_empty_list_raises_index_error(client, stored):
    playlist = await saved_playlist()
    with pytest.raises(IndexError):
        await playlist.songs.apop()
    assert (await stored.doc(playlist.key))["songs"] == []
    assert playlist.songs == []


@pytest.mark.parametrize("index", [3, -4, 100])
async def test_apop_with_an_index_out_of_range_raises_index_error(client, stored, index):
    playlist = await saved_playlist(songs=["a", "b", "c"])
    with pytest.raises(IndexError):
        await playlist.songs.apop(index)
    assert (await stored.doc(playlist.key))["songs"] == ["a", "b", "c"]
    assert playlist.songs == ["a", "b", "c"]


async def test_aclear_leaves_an_empty_list_at_the_path(client, stored):
    playlist = await saved_playlist(songs=["a", "b"])
    await playlist.songs.aclear()
    assert (await stored.doc(playlist.key))["songs"] == []
    assert playlist.songs == []


async def test_list_ops_keep_working_after_aclear(client, stored):
    playlist = await saved_playlist(songs=["a", "b"])
    await playlist.songs.aclear()
    await playlist.songs.aappend("c")
    await playlist.songs.ainsert(0, "z")
    assert (await stored.doc(playlist.key))["songs"] == ["z", "c"]
    assert await playlist.songs.load() == ["z", "c"]
    assert (await Playlist.get(playlist.key)).songs == ["z", "c"]


async def test_load_reads_the_list_written_by_another_instance(client, stored):
    playlist = await saved_playlist(songs=["a"])
    other = await Playlist.get(playlist.key)
    await other.songs.aextend(["b", "c"])
    assert await playlist.songs.load() == ["a", "b", "c"]
    assert playlist.songs == ["a", "b", "c"]


async def test_a_held_reference_sees_the_changes_of_a_ops(client, stored):
    playlist = await saved_playlist()
    songs = playlist.songs
    await songs.aappend("a")
    await songs.load()
    assert playlist.songs == ["a"]
    assert songs == ["a"]


async def test_aappend_of_a_wrong_type_raises_and_writes_nothing(client, stored):
    playlist = await saved_playlist(scores=[1])
    with pytest.raises(FieldValidationError) as info:
        await playlist.scores.aappend("x")
    assert isinstance(info.value, TypeError)
    assert (await stored.doc(playlist.key))["scores"] == [1]
    assert playlist.scores == [1]


async def test_aextend_with_one_bad_item_writes_nothing(client, stored):
    playlist = await saved_playlist(scores=[1])
    with pytest.raises(FieldValidationError):
        await playlist.scores.aextend([2, "x", 3])
    assert (await stored.doc(playlist.key))["scores"] == [1]
    assert playlist.scores == [1]


async def test_ainsert_of_a_wrong_type_raises_and_writes_nothing(client, stored):
    playlist = await saved_playlist(scores=[1])
    with pytest.raises(FieldValidationError):
        await playlist.scores.ainsert(0, "1")
    assert (await stored.doc(playlist.key))["scores"] == [1]
    assert playlist.scores == [1]


async def test_list_items_that_are_lists_are_stored_as_json(client, stored):
    playlist = await saved_playlist()
    await playlist.grid.aappend([1, 2])
    await playlist.grid.ainsert(0, [0])
    assert (await stored.doc(playlist.key))["grid"] == [[0], [1, 2]]
    assert playlist.grid == [[0], [1, 2]]
    assert await playlist.grid.apop() == [1, 2]


async def test_list_items_that_are_models_are_validated_and_stored_as_json(client, stored):
    playlist = await saved_playlist()
    await playlist.stops.aappend(Address(street="1 Main", city="Oslo"))
    await playlist.stops.aappend({"street": "2 High", "city": "Rome"})
    assert (await stored.doc(playlist.key))["stops"] == [
        {"street": "1 Main", "city": "Oslo"},
        {"street": "2 High", "city": "Rome"},
    ]
    assert [stop.city for stop in playlist.stops] == ["Oslo", "Rome"]
    popped = await playlist.stops.apop(0)
    assert (popped.street, popped.city) == ("1 Main", "Oslo")


async def test_a_model_item_missing_a_field_raises_and_writes_nothing(client, stored):
    playlist = await saved_playlist()
    with pytest.raises(FieldValidationError):
        await playlist.stops.aappend({"street": "no city"})
    assert (await stored.doc(playlist.key))["stops"] == []
    assert playlist.stops == []


async def test_aappend_after_another_client_appended_leaves_local_equal_to_redis(client, stored):
    playlist = await saved_playlist(songs=["a"])
    other = await Playlist.get(playlist.key)
    await other.songs.aappend("b")
    await playlist.songs.aappend("c")
    assert (await stored.doc(playlist.key))["songs"] == ["a", "b", "c"]
    assert playlist.songs == ["a", "b", "c"]


async def test_apop_after_another_client_changed_the_list_leaves_local_equal_to_redis(client, stored):
    playlist = await saved_playlist(songs=["a", "b"])
    other = await Playlist.get(playlist.key)
    await other.songs.aappend("c")
    assert await playlist.songs.apop() == "c"
    assert (await stored.doc(playlist.key))["songs"] == ["a", "b"]
    assert playlist.songs == ["a", "b"]


# -- Redis refuses: the path no longer holds a list ---------------------------------------------


async def overwrite_songs_with_a_string(client, playlist: Playlist) -> None:
    await client.execute_command("JSON.SET", playlist.key, "$.songs", '"not a list"')


async def test_aappend_on_a_path_that_is_no_longer_a_list_raises_and_keeps_local(client, stored):
    playlist = await saved_playlist(songs=["a"])
    await overwrite_songs_with_a_string(client, playlist)
    with pytest.raises(RedisCommandError):
        await playlist.songs.aappend("b")
    assert (await stored.doc(playlist.key))["songs"] == "not a list"
    assert playlist.songs == ["a"]


@pytest.mark.parametrize("index", [0, 1, -1])
async def test_ainsert_on_a_path_that_is_no_longer_a_list_raises_and_keeps_local(client, stored, index):
    playlist = await saved_playlist(songs=["a"])
    await overwrite_songs_with_a_string(client, playlist)
    with pytest.raises(RedisCommandError):
        await playlist.songs.ainsert(index, "b")
    assert (await stored.doc(playlist.key))["songs"] == "not a list"
    assert playlist.songs == ["a"]


@pytest.mark.parametrize("index", [0, 1, -1])
async def test_apop_on_a_path_that_is_no_longer_a_list_raises_and_keeps_local(client, stored, index):
    playlist = await saved_playlist(songs=["a", "b"])
    await overwrite_songs_with_a_string(client, playlist)
    with pytest.raises(RedisCommandError):
        await playlist.songs.apop(index)
    assert (await stored.doc(playlist.key))["songs"] == "not a list"
    assert playlist.songs == ["a", "b"]


class Flexible(BaseRedisModel):
    value: list[int] | str = []


async def test_list_ops_on_a_union_field_validate_against_its_list_arm(client, stored):
    model = Flexible()
    await model.save()
    await model.value.aappend(3)
    assert await stored.doc(model.key, "$.value") == [3]
    with pytest.raises(FieldValidationError):
        await model.value.aappend("three")
    assert await stored.doc(model.key, "$.value") == [3]
    assert model.value == [3]


@pytest.mark.parametrize("index", [2**63, 2**80, -(2**80)])
async def test_ainsert_with_an_index_beyond_any_list_inserts_at_that_end(client, stored, index):
    playlist = Playlist(songs=["a", "b"])
    await playlist.save()
    await playlist.songs.ainsert(index, "x")
    expected = ["a", "b", "x"] if index > 0 else ["x", "a", "b"]
    assert await stored.doc(playlist.key, "$.songs") == playlist.songs == expected
