"""The I/O-free side of queries: the FT.CREATE and FT.SEARCH commands built from a model and its
conditions, the replies read back, and the numbers indexed datetimes are stored as."""

from __future__ import annotations

import datetime
import gc
import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from redis_pydantic import F, Indexed, contains, match, one_of
from redis_pydantic._index import (
    _datetime_checked,
    datetime_to_timestamp,
    index_schema,
    timestamp_to_date,
    timestamp_to_datetime,
)
from redis_pydantic._query import QuerySpec
from redis_pydantic.errors import QueryError
from redis_pydantic.sync import BaseRedisModel

UTC = datetime.timezone.utc


class Place(BaseModel):
    city: Annotated[str, Indexed(sortable=True)] = ""


class Book(BaseRedisModel):
    title: Annotated[str, Indexed(text=True)] = ""
    isbn: Annotated[str, Indexed()] = ""
    pages: Annotated[int, Indexed(sortable=True)] = 0
    tags: Annotated[list[str], Indexed()] = []
    place: Place = Place()
    note: str = ""

    class Meta:
        key_prefix = "book"


B = F(Book)


def test_the_index_is_created_from_the_declared_fields():
    schema = index_schema(Book)
    assert schema.create_args == (
        "FT.CREATE",
        schema.physical,
        *("ON", "JSON", "PREFIX", "1", "book:", "STOPWORDS", "0", "SCHEMA"),
        *("$.title", "AS", "title", "TEXT", "INDEXEMPTY"),
        *("$.isbn", "AS", "isbn", "TAG", "CASESENSITIVE", "INDEXEMPTY"),
        *("$.pages", "AS", "pages", "NUMERIC", "SORTABLE"),
        *("$.tags[*]", "AS", "tags", "TAG", "CASESENSITIVE", "INDEXEMPTY"),
        *("$.place.city", "AS", "place.city", "TAG", "CASESENSITIVE", "INDEXEMPTY", "SORTABLE", "UNF"),
    )
    assert schema.name == "book:idx"  # the model's index: an alias moved by migrate_index()
    assert schema.query_name == f"book:idx:{schema.fingerprint}"  # this schema's alias, for queries
    assert schema.physical == f"book:idx:{schema.fingerprint}:index"


def test_another_schema_gets_another_physical_index():
    class BookV2(BaseRedisModel):
        title: Annotated[str, Indexed()] = ""

        class Meta:
            key_prefix = "book"

    assert index_schema(BookV2).name == index_schema(Book).name
    assert index_schema(BookV2).query_name != index_schema(Book).query_name
    assert index_schema(BookV2).physical != index_schema(Book).physical


class Node(BaseModel):
    label: Annotated[str, Indexed()] = ""
    child: Node | None = None


class Tree(BaseRedisModel):
    root: Node = Node()


def test_a_model_that_contains_itself_is_indexed_once_per_path():
    assert list(index_schema(Tree).fields) == ["root.label"]


def test_index_name_comes_from_meta_and_is_not_inherited():
    class Named(BaseRedisModel):
        name: Annotated[str, Indexed()] = ""

        class Meta:
            index_name = "named-index"

    class Child(Named):
        pass

    assert index_schema(Named).name == "named-index"
    assert index_schema(Child).name == "Child:idx"


def test_values_travel_as_parameters_never_in_the_query_text():
    spec = QuerySpec(Book, ((B.isbn == "x} | @pages:[-inf +inf]") & contains(B.tags, "a\\b"),))
    command = spec.command(0, 10)
    assert command[1] == index_schema(Book).query_name
    assert command[2] == "(@isbn:{$p0}) (@tags:{$p1})"
    assert command[command.index("PARAMS") :] == (
        "PARAMS",
        4,
        "p0",
        "x} | @pages:[-inf +inf]",
        "p1",
        "a\\\\b",  # RediSearch reads backslashes in parameters as escapes
        "DIALECT",
        "2",
    )


def test_search_command_with_sorting_paging_and_every_operator():
    condition = (
        ((B.pages >= 10) | (B.pages < 2.5))
        & ~(B.place.city == "Paris")
        & one_of(B.isbn, ["a", "b"])
        & match(B.title, "war, peace!", prefix=True)
        & B.isbn.startswith("9")
    )
    spec = QuerySpec(Book, (condition,)).sorted_by(B.place.city, True).paged(start=20, limit=5)
    assert spec.command(20, 5)[:9] == (
        "FT.SEARCH",
        index_schema(Book).query_name,
        "((@pages:[10 +inf]) | (@pages:[-inf (2.5])) (-(@place\\.city:{$p0})) (@isbn:{$p1 | $p2}) "
        "(@title:($p3* $p4*)) (@isbn:{w'9*'})",
        "SORTBY",
        "place.city",
        "DESC",
        "LIMIT",
        20,
        5,
    )


def test_one_byte_prefixes_are_wildcard_patterns_escaped():
    assert QuerySpec(Book, (B.isbn.startswith("-"),)).command(0, 1)[2] == "@isbn:{w'\\-*'}"
    assert QuerySpec(Book, (B.isbn.startswith("é"),)).command(0, 1)[2] == "@isbn:{$p0*}"  # two bytes


def test_count_sends_no_content_and_projection_asks_for_json_values():
    spec = QuerySpec(Book, ())
    assert spec.count_command()[:5] == ("FT.SEARCH", index_schema(Book).query_name, "*", "NOCONTENT", "LIMIT")
    projected = spec.projected((B.pages, "title"))
    command = projected.command(0, 3)
    assert command[3:7] == ("RETURN", 2, "$.pages", "$.title")
    assert command[-2:] == ("DIALECT", "3")


DOC = {"title": "Dune", "isbn": "1", "pages": 412, "tags": ["sf"], "place": {"city": "Arrakis"}, "note": ""}


def test_replies_of_both_protocols_give_the_same_models():
    spec = QuerySpec(Book, ())
    payload = json.dumps(DOC)
    resp2 = [1, b"book:abc", [b"pages", b"412", b"$", payload.encode()]]  # SORTBY adds its value
    resp3 = {
        b"total_results": 1,
        b"results": [{b"id": b"book:abc", b"extra_attributes": {b"$": payload.encode()}, b"values": []}],
        b"warning": [],
    }
    for reply in (resp2, resp3):
        total, [book] = spec.parse(reply)
        assert total == 1
        assert book == Book.model_validate(DOC)
        assert (book.pk, book.key) == ("abc", "book:abc")


def test_reading_a_reply_leaves_the_garbage_collector_as_it_was():
    spec = QuerySpec(Book, ())
    reply = [1, "book:abc", ["$", json.dumps(DOC)]]
    assert gc.isenabled()
    spec.parse(reply)
    assert gc.isenabled()
    gc.disable()
    try:
        spec.parse(reply)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValidationError):
        spec.parse([1, "book:abc", ["$", '{"pages": "many"}']])
    assert gc.isenabled()


def test_a_partial_reply_is_an_error_not_fewer_results():
    reply = {"total_results": 3, "results": [], "warning": ["Timeout limit was reached"]}
    with pytest.raises(QueryError, match="partial"):
        QuerySpec(Book, ()).parse(reply)


def test_projected_replies_give_partial_instances():
    spec = QuerySpec(Book, ()).projected((B.pages, B.title))
    _, [book] = spec.parse([1, "book:x", ["$.pages", "[412]", "$.title", '["Dune"]']])
    assert book.pages == 412 and book.title == "Dune"
    assert book.model_dump() == {"pages": 412, "title": "Dune"}


@given(st.datetimes(min_value=datetime.datetime(1800, 1, 1), max_value=datetime.datetime(2200, 1, 1)))
def test_datetimes_survive_their_timestamp_to_the_microsecond(value):
    value = value.replace(tzinfo=UTC)
    assert timestamp_to_datetime(datetime_to_timestamp(value)) == value
    assert timestamp_to_datetime(json.loads(json.dumps(datetime_to_timestamp(value)))) == value


@given(st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)))
def test_a_datetime_is_kept_exactly_or_refused(value):
    value = value.replace(tzinfo=UTC)
    try:
        kept = _datetime_checked(value)
    except ValueError:
        return
    assert timestamp_to_datetime(datetime_to_timestamp(kept)) == value


def test_timestamps_of_dates_are_whole_days():
    assert timestamp_to_date(-86400) == datetime.date(1969, 12, 31)
    with pytest.raises(ValueError, match="time of day"):
        timestamp_to_date(86401)


def test_indexed_decimals_are_stored_as_json_numbers():
    class Price(BaseRedisModel):
        amount: Annotated[Decimal, Indexed()] = Decimal("0")

    assert Price(amount=Decimal("19.99")).model_dump_json() == '{"amount":19.99}'
    assert Price.model_validate_json('{"amount":19.99}').amount == Decimal("19.99")


USER_CODE = """
from typing import Annotated

from redis_pydantic.sync import BaseRedisModel, F, Indexed, Query, contains, one_of


class User(BaseRedisModel):
    name: Annotated[str, Indexed()]
    age: Annotated[int, Indexed(sortable=True)] = 0
    tags: Annotated[list[str], Indexed()] = []


u = F(User)
query: Query[User] = User.find((u.age >= 18) & (u.name == "Ada"), contains(u.tags, "x"))
query = query.sort_by(u.age, descending=True).limit(10)
first: User | None = query.first()
adults: list[User] = query.all()
either = one_of(u.name, ["Ada", "Grace"]) | (u.age < 3)
"""


def test_queries_type_check_in_user_code_and_wrong_values_are_reported(tmp_path):
    (tmp_path / "good.py").write_text(textwrap.dedent(USER_CODE))
    (tmp_path / "bad.py").write_text(
        textwrap.dedent(USER_CODE) + "\nwrong = User.find(u.age >= 'eighteen')\nnope = u.nmae\n"
    )
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            "good.py",
            "bad.py",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert [line for line in errors if line.startswith("good.py")] == [], checked.stdout
    assert any('Unsupported operand types for >= ("int" and "str")' in line for line in errors), (
        checked.stdout
    )
    assert any('"User" has no attribute "nmae"' in line for line in errors), checked.stdout
    assert len(errors) == 2, checked.stdout
