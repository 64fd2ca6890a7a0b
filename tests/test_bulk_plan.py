"""How bulk operations split their work, name keys and read replies (no Redis needed)."""

from __future__ import annotations

import pytest

from redis_pydantic import _bulk
from redis_pydantic._paths import hash_slot
from redis_pydantic.errors import DocumentValidationError, InvalidArgumentError, KeyNotFoundError
from redis_pydantic.sync import BaseRedisModel


class Doc(BaseRedisModel):
    text: str = ""


def batches(items, batch, limit, by_slot=False):
    return list(_bulk.split(items, str, len, batch, limit, by_slot=by_slot))


def test_split_keeps_order_and_bounds_the_count():
    items = [f"k{i}" for i in range(7)]
    assert batches(items, 3, 10**6) == [items[:3], items[3:6], items[6:]]
    assert batches(items, 10, 10**6) == [items]
    assert batches([], 3, 10) == []


def test_split_bounds_the_bytes_and_an_item_larger_than_the_limit_goes_alone():
    items = ["aa", "bbbbbbbbbb", "c", "dd", "ee"]
    assert batches(items, 10, 4) == [["aa"], ["bbbbbbbbbb"], ["c", "dd"], ["ee"]]
    for chunk in batches(items, 10, 4):
        assert len(chunk) == 1 or sum(map(len, chunk)) <= 4


def test_split_by_slot_never_mixes_slots_and_keeps_the_order_within_a_slot():
    keys = [f"Doc:{i}" for i in range(200)] + ["{tag}a", "{tag}b", "{tag}c"]
    chunks = batches(keys, 2, 10**6, by_slot=True)
    for chunk in chunks:
        assert len({hash_slot(k) for k in chunk}) == 1 and len(chunk) <= 2
    assert sorted(k for chunk in chunks for k in chunk) == sorted(keys)
    tagged = [k for chunk in chunks for k in chunk if k.startswith("{tag}")]
    assert tagged == ["{tag}a", "{tag}b", "{tag}c"]


def test_keys_are_full_keys_or_pks():
    assert _bulk.keys_of(Doc, ["Doc:1", "2", "Doc:", "Other:3"]) == [
        "Doc:1",
        "Doc:2",
        "Doc:Doc:",
        "Doc:Other:3",
    ]


@pytest.mark.parametrize("bad", [[1], [""], [None], "Doc:1", b"Doc:1"])
def test_keys_must_be_non_empty_str_in_a_list(bad):
    with pytest.raises(InvalidArgumentError):
        _bulk.keys_of(Doc, bad)


def test_the_match_pattern_escapes_glob_characters():
    assert _bulk.match_pattern("User") == "User:*"
    assert _bulk.match_pattern("a*b?c[d]e\\f") == "a\\*b\\?c\\[d\\]e\\\\f:*"


def test_documents_are_read_from_redisjson_and_fakeredis_mget_answers():
    replies = [b'[{"text":"a"}]', '[{"text":"b"}]', b'{"text": "c"}', None, b"[]"]
    keys = ["Doc:1", "Doc:2", "Doc:3", "Doc:4", "Doc:5"]
    models = _bulk.decode_batch(Doc, keys, replies, True)
    assert [m.text if m else None for m in models] == ["a", "b", "c", None, None]
    assert [(m.pk, m.key) for m in models[:3]] == [("1", "Doc:1"), ("2", "Doc:2"), ("3", "Doc:3")]
    with pytest.raises(KeyNotFoundError) as info:
        _bulk.decode_batch(Doc, keys, replies, False)
    assert info.value.key == "Doc:4"
    with pytest.raises(DocumentValidationError) as bad:
        _bulk.decode_batch(Doc, ["Doc:9"], [b'[{"text":5}]'], True)
    assert bad.value.key == "Doc:9"


def test_batch_options_are_checked_and_capped():
    assert _bulk.check_options(10**6, 5, None) == (_bulk.MAX_KEYS_PER_COMMAND, 5)
    for bad in (0, -1, 1.5, "3", True, None):
        with pytest.raises(InvalidArgumentError):
            _bulk.check_options(bad, 5, None)
        with pytest.raises(InvalidArgumentError):
            _bulk.check_options(5, bad, None)
    with pytest.raises(InvalidArgumentError):
        _bulk.check_options(5, 5, "not callable")
