"""Queries: find() with typed conditions over indexed fields, on a Redis 8.2 server with the
search module (RediSearch), in both reply protocols. What Redis holds is read raw."""

from __future__ import annotations

import datetime
import enum
import json
import random
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ValidationError

from redis_pydantic import (
    F,
    Indexed,
    _query,
    all_of,
    any_of,
    between,
    contains,
    errors,
    field,
    match,
    not_,
    one_of,
)
from redis_pydantic._async import connection
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import (
    FieldNotIndexedError,
    FieldNotLoadedError,
    QueryError,
)
from tests._twins import AsyncRedis
from tests.conftest import installed

UTC = datetime.timezone.utc

#: The search server through a RESP3 client with bytes replies (redis-py 8's default), and
#: through a RESP2 client that decodes replies.
SEARCH_BACKENDS = {"resp3": {}, "resp2": {"decode_responses": True, "protocol": 2}}


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 5


class Address(BaseModel):
    city: Annotated[str, Indexed(sortable=True)] = ""
    street: str = ""


class Job(BaseModel):
    title: Annotated[str, Indexed(text=True)] = ""
    address: Address = Address()


class Person(BaseRedisModel):
    name: Annotated[str, Indexed(sortable=True)]
    nickname: Annotated[str | None, Indexed()] = None
    bio: Annotated[str, Indexed(text=True)] = ""
    age: Annotated[int, Indexed(sortable=True)] = 0
    height: Annotated[float | None, Indexed()] = None
    price: Annotated[Decimal, Indexed()] = Decimal("0")
    born: Annotated[datetime.date, Indexed()] = datetime.date(2000, 1, 1)
    seen: Annotated[datetime.datetime, Indexed(sortable=True)] = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    active: Annotated[bool, Indexed()] = True
    color: Annotated[Color, Indexed()] = Color.RED
    level: Annotated[Level, Indexed()] = Level.LOW
    kind: Annotated[Literal["a", "b"], Indexed()] = "a"
    uid: Annotated[uuid.UUID, Indexed()] = uuid.UUID(int=0)
    tags: Annotated[list[str], Indexed()] = []
    lucky: Annotated[list[int], Indexed()] = []
    email: Annotated[str, Indexed(case_sensitive=False)] = ""
    notes: str = ""
    job: Job = Job()


P = F(Person)


@pytest.fixture(params=list(SEARCH_BACKENDS))
async def search_client(request: pytest.FixtureRequest, search_redis_url: str) -> Any:
    """A client of the search server, flushed (indexes too), installed as every model's client."""
    client = AsyncRedis.from_url(search_redis_url, **SEARCH_BACKENDS[request.param])
    await client.flushall()
    with installed(connection, client):
        yield client
    await client.aclose()


@pytest.fixture
async def people(search_client: Any) -> dict[str, Person]:
    """Five stored people, with the index created first."""
    await Person.create_index()
    made = {
        "ada": Person(
            name="Ada",
            bio="Countess of engines and poetry",
            age=36,
            height=1.65,
            price=Decimal("10.50"),
            born=datetime.date(1815, 12, 10),
            seen=datetime.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC),
            tags=["math", "poetry"],
            lucky=[3, 7],
            email="Ada@Example.com",
            job=Job(title="Analyst of engines", address=Address(city="London", street="St James")),
        ),
        "grace": Person(
            name="Grace",
            nickname="Amazing Grace",
            bio="Admiral who found a moth",
            age=85,
            height=1.70,
            price=Decimal("20"),
            born=datetime.date(1906, 12, 9),
            seen=datetime.datetime(2023, 1, 1, tzinfo=UTC),
            active=False,
            color=Color.BLUE,
            level=Level.HIGH,
            kind="b",
            uid=uuid.UUID(int=7),
            tags=["navy", "compilers"],
            lucky=[7],
            job=Job(title="Rear admiral", address=Address(city="Arlington")),
        ),
        "alan": Person(
            name="Alan",
            bio="Machines that think",
            age=41,
            price=Decimal("0.1"),
            born=datetime.date(1912, 6, 23),
            seen=datetime.datetime(2022, 6, 7, tzinfo=UTC),
            tags=["math", "crypto"],
            job=Job(title="Mathematician", address=Address(city="London")),
        ),
        "edsger": Person(
            name="Edsger",
            nickname="",
            age=72,
            height=1.88,
            born=datetime.date(1930, 5, 11),
            active=False,
            tags=[],
            job=Job(address=Address(city="Austin")),
        ),
        "barbara": Person(name="barbara", age=36, tags=["math"], color=Color.BLUE),
    }
    for person in made.values():
        await person.save()
    return made


def names(found: list[Person]) -> set[str]:
    return {str(p.name) for p in found}


async def raw_document(client: Any, key: str) -> Any:
    return json.loads(await client.execute_command("JSON.GET", key, "$"))[0]


class Recorder:
    """Wraps a client and records what goes through ``execute_command``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.commands: list[tuple[Any, ...]] = []

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(args)
        return await self.client.execute_command(*args, **options)


# -- the index ------------------------------------------------------------------------------------


async def test_create_index_declares_every_indexed_field_with_its_type_and_path(search_client):
    assert await Person.create_index() is True
    info = _index_info(await search_client.execute_command("FT.INFO", "Person:idx"))
    attributes = {a["attribute"]: (a["identifier"], a["type"]) for a in info["attributes"]}
    assert attributes == {
        "name": ("$.name", "TAG"),
        "nickname": ("$.nickname", "TAG"),
        "bio": ("$.bio", "TEXT"),
        "age": ("$.age", "NUMERIC"),
        "height": ("$.height", "NUMERIC"),
        "price": ("$.price", "NUMERIC"),
        "born": ("$.born", "NUMERIC"),
        "seen": ("$.seen", "NUMERIC"),
        "active": ("$.active", "TAG"),
        "color": ("$.color", "TAG"),
        "level": ("$.level", "NUMERIC"),
        "kind": ("$.kind", "TAG"),
        "uid": ("$.uid", "TAG"),
        "tags": ("$.tags[*]", "TAG"),
        "lucky": ("$.lucky[*]", "NUMERIC"),
        "email": ("$.email", "TAG"),
        "job.title": ("$.job.title", "TEXT"),
        "job.address.city": ("$.job.address.city", "TAG"),
    }
    assert info["index_definition"]["prefixes"] == ["Person:"]
    # The name queries use is an alias of the index that holds this schema.
    assert info["index_name"].startswith("Person:idx:")


def _index_info(reply: Any) -> dict[str, Any]:
    from redis_pydantic._index import _attribute_map, info_map

    info = info_map(reply)
    definition = info["index_definition"]
    if isinstance(definition, list):
        info["index_definition"] = dict(zip(definition[::2], definition[1::2], strict=False))
    info["attributes"] = [_attribute_map(a) for a in info["attributes"]]
    return info


async def test_create_index_is_idempotent(search_client):
    assert await Person.create_index() is True
    before = sorted(await search_client.execute_command("FT._LIST"))
    assert await Person.create_index() is False
    assert sorted(await search_client.execute_command("FT._LIST")) == before


async def test_create_index_waits_until_the_stored_documents_are_indexed(search_client):
    for i in range(300):
        await Person(name=f"p{i}", age=i).save()
    await Person.create_index()
    assert await Person.find(P.age >= 0).count() == 300


class PersonV2(BaseRedisModel):
    """Person's documents with one more indexed field and one field indexed differently."""

    name: Annotated[str, Indexed(sortable=True)]
    age: Annotated[int, Indexed(sortable=True)] = 0
    bio: Annotated[str, Indexed()] = ""  # TAG instead of TEXT
    notes: Annotated[str, Indexed()] = ""  # newly indexed

    class Meta:
        key_prefix = "Person"


async def test_create_index_refuses_an_index_with_another_schema(search_client, people):
    before = await search_client.execute_command("FT._LIST")
    with pytest.raises(errors.IndexSchemaMismatchError, match="migrate_index") as caught:
        await PersonV2.create_index()
    listed = "\n".join(caught.value.differences)
    assert "notes" in listed and "bio" in listed and "tags" in listed
    assert await search_client.execute_command("FT._LIST") == before


async def test_migrate_index_builds_the_new_schema_and_switches_queries_to_it(search_client, people):
    old = _index_info(await search_client.execute_command("FT.INFO", "Person:idx"))["index_name"]
    await search_client.execute_command("JSON.SET", people["ada"].key, "$.notes", json.dumps("vip"))
    assert await PersonV2.migrate_index() is True
    info = _index_info(await search_client.execute_command("FT.INFO", "Person:idx"))
    assert info["index_name"] != old
    found = await PersonV2.find(F(PersonV2).notes == "vip").all()
    assert [p.name for p in found] == ["Ada"]
    assert await PersonV2.find(F(PersonV2).bio == "Machines that think").count() == 1
    lists = [
        x.decode() if isinstance(x, bytes) else x for x in await search_client.execute_command("FT._LIST")
    ]
    assert old not in lists  # the old index was dropped, its documents kept
    assert await search_client.exists(people["ada"].key)
    assert await PersonV2.migrate_index() is False
    assert await PersonV2.create_index() is False


async def test_each_model_queries_only_an_index_of_the_schema_it_declares(search_client, people):
    await search_client.execute_command("JSON.SET", people["ada"].key, "$.notes", json.dumps("vip"))
    # Before the migration, the new schema's queries find no index, rather than no results.
    with pytest.raises(errors.IndexNotFoundError, match="migrate_index"):
        await PersonV2.find(F(PersonV2).notes == "vip").all()
    assert await PersonV2.migrate_index() is True
    assert await PersonV2.find(F(PersonV2).notes == "vip").count() == 1
    # After it, the old schema's index is gone: its queries fail, rather than find nothing.
    with pytest.raises(errors.IndexNotFoundError):
        await Person.find(match(P.bio, "moth")).all()


async def test_migrate_index_can_keep_the_old_index(search_client, people):
    old = _index_info(await search_client.execute_command("FT.INFO", "Person:idx"))["index_name"]
    assert await PersonV2.migrate_index(drop_old=False) is True
    lists = [
        x.decode() if isinstance(x, bytes) else x for x in await search_client.execute_command("FT._LIST")
    ]
    assert old in lists
    # Instances of the old model keep querying the old index until it is dropped, and their
    # create_index() at start-up finds it.
    assert names(await Person.find(match(P.bio, "moth")).all()) == {"Grace"}
    assert await Person.create_index() is False
    assert names(await PersonV2.find(F(PersonV2).bio == "Admiral who found a moth").all()) == {"Grace"}


async def test_migrate_index_takes_over_from_an_index_made_by_hand(search_client, people):
    await search_client.execute_command("FT.DROPINDEX", "Person:idx")  # the alias's index
    await search_client.execute_command(
        "FT.CREATE",
        "Person:idx",
        "ON",
        "JSON",
        "PREFIX",
        "1",
        "Person:",
        "SCHEMA",
        "$.name",
        "AS",
        "name",
        "TAG",
    )
    with pytest.raises(errors.IndexSchemaMismatchError):
        await Person.create_index()
    assert await Person.migrate_index() is True
    assert names(await Person.find(P.age == 36).all()) == {"Ada", "barbara"}
    assert await Person.create_index() is False


async def test_drop_index_keeps_the_documents(search_client, people):
    assert await Person.drop_index() is True
    assert await search_client.execute_command("FT._LIST") == []
    assert await search_client.exists(*[p.key for p in people.values()]) == len(people)
    assert await Person.drop_index() is False
    with pytest.raises(errors.IndexNotFoundError, match="create_index"):
        await Person.find(P.age > 1).all()


async def test_drop_index_deletes_the_documents_only_when_asked(search_client, people):
    other = await search_client.execute_command("JSON.SET", "Other:1", "$", json.dumps({"a": 1}))
    assert other
    assert await Person.drop_index(delete_documents=True) is True
    assert await search_client.exists(*[p.key for p in people.values()]) == 0
    assert await search_client.exists("Other:1") == 1


async def test_find_without_an_index_says_how_to_create_it(search_client):
    with pytest.raises(errors.IndexNotFoundError, match=r"Person\.create_index\(\)"):
        await Person.find().count()


# -- what is stored -------------------------------------------------------------------------------


async def test_indexed_datetimes_dates_and_decimals_are_stored_as_numbers(search_client):
    await Person.create_index()
    seen = datetime.datetime(
        2024, 5, 1, 14, 0, 0, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    person = Person(name="T", seen=seen, born=datetime.date(1970, 1, 2), price=Decimal("12.25"))
    await person.save()
    doc = await raw_document(search_client, person.key)
    assert doc["seen"] == pytest.approx(seen.timestamp(), abs=1e-6)
    assert doc["born"] == 86400
    assert doc["price"] == 12.25
    back = await Person.get(person.key)
    assert back.seen == seen and back.seen.tzinfo == UTC  # the same instant, read back in UTC
    assert back.born == datetime.date(1970, 1, 2) and back.price == Decimal("12.25")
    await person.seen.set(datetime.datetime(2030, 1, 1, tzinfo=UTC))
    assert (await raw_document(search_client, person.key))["seen"] == 1893456000.0
    assert [p.key for p in await Person.find(P.seen > seen).all()] == [person.key]


async def test_a_naive_indexed_datetime_is_taken_as_utc(search_client):
    person = Person(name="T", seen=datetime.datetime(2024, 1, 1, 0, 0))
    assert person.seen == datetime.datetime(2024, 1, 1, tzinfo=UTC)
    await person.save()
    assert (await raw_document(search_client, person.key))["seen"] == 1704067200.0


def test_values_that_a_stored_number_cannot_hold_are_refused():
    with pytest.raises(ValidationError, match="microseconds"):
        Person(name="T", seen=datetime.datetime(9000, 1, 1, 0, 0, 0, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="double"):
        Person(name="T", price=Decimal("0.12345678901234567890"))
    with pytest.raises(ValidationError, match="finite"):
        Person(name="T", price=Decimal("NaN"))


# -- operators ------------------------------------------------------------------------------------


async def test_equality_on_every_index_type(people):
    cases = [
        (P.name == "Ada", {"Ada"}),
        (P.nickname == "Amazing Grace", {"Grace"}),
        (P.nickname == "", {"Edsger"}),
        (P.age == 36, {"Ada", "barbara"}),
        (P.height == 1.7, {"Grace"}),
        (P.price == Decimal("0.1"), {"Alan"}),
        (P.price == 20, {"Grace"}),
        (P.born == datetime.date(1912, 6, 23), {"Alan"}),
        (P.seen == datetime.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC), {"Ada"}),
        (P.active == False, {"Grace", "Edsger"}),  # noqa: E712 - a query condition, not a test
        (P.active == True, {"Ada", "Alan", "barbara"}),  # noqa: E712
        (P.color == Color.BLUE, {"Grace", "barbara"}),
        (P.level == Level.HIGH, {"Grace"}),
        (P.kind == "b", {"Grace"}),
        (P.uid == uuid.UUID(int=7), {"Grace"}),
        (P.job.address.city == "London", {"Ada", "Alan"}),
        (P.email == "ada@example.COM", {"Ada"}),  # case_sensitive=False
    ]
    for condition, expected in cases:
        assert names(await Person.find(condition).all()) == expected, condition


async def test_tag_equality_is_case_sensitive_and_exact(people):
    assert names(await Person.find(P.name == "ada").all()) == set()
    assert names(await Person.find(P.name == "Barbara").all()) == set()
    assert names(await Person.find(P.name == "barbara").all()) == {"barbara"}
    assert names(await Person.find(P.nickname == "Amazing").all()) == set()


async def test_ranges_on_numbers_dates_and_datetimes(people):
    cases = [
        (P.age > 41, {"Grace", "Edsger"}),
        (P.age >= 41, {"Grace", "Edsger", "Alan"}),
        (P.age < 36, set()),
        (P.age <= 36, {"Ada", "barbara"}),
        (between(P.age, 40, 80), {"Alan", "Edsger"}),
        (P.height > 1.65, {"Grace", "Edsger"}),
        (P.price < Decimal("10.5"), {"Alan", "Edsger", "barbara"}),
        (P.born < datetime.date(1900, 1, 1), {"Ada"}),
        (between(P.born, datetime.date(1906, 12, 9), datetime.date(1912, 6, 23)), {"Grace", "Alan"}),
        (P.seen >= datetime.datetime(2023, 1, 1, tzinfo=UTC), {"Ada", "Grace"}),
        (P.seen < datetime.datetime(2023, 1, 1, tzinfo=UTC), {"Alan", "Edsger", "barbara"}),
        (P.level > Level.LOW, {"Grace"}),
    ]
    for condition, expected in cases:
        assert names(await Person.find(condition).all()) == expected, condition


async def test_not_equal_and_negation(people):
    assert names(await Person.find(P.age != 36).all()) == {"Grace", "Alan", "Edsger"}
    assert names(await Person.find(P.name != "Ada").all()) == {"Grace", "Alan", "Edsger", "barbara"}
    assert names(await Person.find(not_(P.age > 40)).all()) == {"Ada", "barbara"}
    assert names(await Person.find(~contains(P.tags, "math")).all()) == {"Grace", "Edsger"}


async def test_and_or_and_their_functions(people):
    both = (P.age >= 36) & (P.color == Color.BLUE)
    assert names(await Person.find(both).all()) == {"Grace", "barbara"}
    assert names(await Person.find(P.age >= 36, P.color == Color.BLUE).all()) == {"Grace", "barbara"}
    either = (P.name == "Ada") | (P.age > 80)
    assert names(await Person.find(either).all()) == {"Ada", "Grace"}
    nested = ((P.name == "Ada") | (P.name == "Alan")) & ~(P.job.address.city == "London")
    assert names(await Person.find(nested).all()) == set()
    assert names(await Person.find(all_of(P.age > 30, P.active == True)).all()) == {  # noqa: E712
        "Ada",
        "Alan",
        "barbara",
    }
    assert names(await Person.find(any_of(P.age > 80, P.age < 37)).all()) == {"Grace", "Ada", "barbara"}
    assert names(await Person.find(contains(P.tags, "math") & (P.age == 36)).all()) == {"Ada", "barbara"}


async def test_one_of(people):
    assert names(await Person.find(one_of(P.name, ["Ada", "Alan", "Nobody"])).all()) == {"Ada", "Alan"}
    assert names(await Person.find(one_of(P.age, [36, 85])).all()) == {"Ada", "Grace", "barbara"}
    assert names(await Person.find(one_of(P.tags, ["navy", "crypto"])).all()) == {"Grace", "Alan"}
    assert names(await Person.find(one_of(P.color, [Color.BLUE])).all()) == {"Grace", "barbara"}
    assert await Person.find(one_of(P.name, [])).all() == []
    assert await Person.find(one_of(P.age, [])).count() == 0
    assert names(await Person.find(~one_of(P.name, [])).all()) == {p for p in names(list(people.values()))}


async def test_prefix_match(people):
    assert names(await Person.find(P.name.startswith("A")).all()) == {"Ada", "Alan"}
    assert names(await Person.find(P.name.startswith("Ad")).all()) == {"Ada"}
    assert names(await Person.find(P.name.startswith("a")).all()) == set()
    assert names(await Person.find(P.name.startswith("Ada")).all()) == {"Ada"}
    assert names(await Person.find(P.job.address.city.startswith("Lo")).all()) == {"Ada", "Alan"}


async def test_text_match(people):
    assert names(await Person.find(match(P.bio, "engines")).all()) == {"Ada"}
    assert names(await Person.find(match(P.bio, "engine")).all()) == {"Ada"}  # stemmed
    assert names(await Person.find(match(P.bio, "POETRY countess")).all()) == {"Ada"}
    assert names(await Person.find(match(P.bio, "of")).all()) == {"Ada"}  # no stop words
    assert names(await Person.find(match(P.bio, "mach", prefix=True)).all()) == {"Alan"}
    assert names(await Person.find(match(P.job.title, "admiral")).all()) == {"Grace"}
    assert names(await Person.find(match(P.bio, "engines moth")).all()) == set()


async def test_list_contains(people):
    assert names(await Person.find(contains(P.tags, "math")).all()) == {"Ada", "Alan", "barbara"}
    assert names(await Person.find(contains(P.lucky, 7)).all()) == {"Ada", "Grace"}
    assert names(await Person.find(contains(P.tags, "mat")).all()) == set()


async def test_comparing_with_none(people):
    assert names(await Person.find(P.nickname == None).all()) == {"Ada", "Alan", "barbara"}  # noqa: E711
    assert names(await Person.find(P.nickname != None).all()) == {"Grace", "Edsger"}  # noqa: E711
    assert names(await Person.find(P.height == None).all()) == {"Alan", "barbara"}  # noqa: E711
    assert names(await Person.find(P.height != None).all()) == {"Ada", "Grace", "Edsger"}  # noqa: E711


async def test_a_field_can_be_named_by_its_dotted_path(people):
    city = field(Person, "job.address.city")
    assert names(await Person.find(city == "Austin").all()) == {"Edsger"}


# -- results --------------------------------------------------------------------------------------


async def test_results_are_the_models_get_returns_read_from_the_search_reply(search_client, people):
    recorder = Recorder(search_client)
    with installed(connection, recorder):
        found = await Person.find(P.age >= 36).sort_by(P.age).all()
    assert [c[0] for c in recorder.commands] == ["FT.SEARCH"]  # one round trip, no JSON.GET per result
    expected = [await Person.get(people[n].key) for n in ("ada", "barbara", "alan", "edsger", "grace")]
    assert found[:2] == expected[:2] or found[:2] == expected[:2][::-1]  # equal ages: any order
    assert found[2:] == expected[2:]
    assert {p.key for p in found} == {p.key for p in expected}
    for got in found:
        assert got.pk == got.key.removeprefix("Person:")
        assert got.model_dump() == (await Person.get(got.key)).model_dump()
    # The results are stored models: their field operations work.
    await found[-1].age.aincrease(1)
    assert (await raw_document(search_client, people["grace"].key))["age"] == 86


async def test_first_and_count(people):
    assert (await Person.find(P.name == "Alan").first()).name == "Alan"  # type: ignore[union-attr]
    assert await Person.find(P.name == "Nobody").first() is None
    assert await Person.find(P.age >= 36).count() == 5
    assert await Person.find(P.age >= 36).limit(2).offset(1).count() == 5
    oldest = await Person.find().sort_by(P.age, descending=True).first()
    assert oldest is not None and oldest.name == "Grace"


async def test_sort_by_numbers_strings_and_nested_fields(people):
    by_age = await Person.find().sort_by(P.age, descending=True).all()
    assert [p.age for p in by_age] == sorted((p.age for p in people.values()), reverse=True)
    by_name = await Person.find().sort_by("name").all()
    assert [p.name for p in by_name] == sorted(p.name for p in people.values())  # "barbara" last
    by_seen = await Person.find().sort_by(P.seen).all()
    assert [p.seen for p in by_seen] == sorted(p.seen for p in people.values())
    by_city = await Person.find(P.job.address.city != "").sort_by(P.job.address.city).all()
    assert [p.job.address.city for p in by_city] == ["Arlington", "Austin", "London", "London"]


async def test_sort_by_needs_a_sortable_field(people):
    with pytest.raises(QueryError, match="sortable"):
        Person.find().sort_by(P.height)


async def test_offset_and_limit_page_through_the_results(people):
    everyone = [p.name for p in await Person.find().sort_by(P.name).all()]
    pages = []
    for start in range(0, 5, 2):
        pages += [p.name for p in await Person.find().sort_by(P.name).offset(start).limit(2).all()]
    assert pages == everyone
    assert await Person.find().sort_by(P.name).offset(10).all() == []
    assert await Person.find().limit(0).all() == []


async def test_async_iteration_reads_page_by_page(search_client, people):
    recorder = Recorder(search_client)
    with installed(connection, recorder):
        seen = [p.name async for p in Person.find().sort_by(P.name).iterate(page_size=2)]
    assert seen == sorted(p.name for p in people.values())
    assert [c[0] for c in recorder.commands] == ["FT.SEARCH"] * 3
    assert [p.name async for p in Person.find(P.age > 40)] != []
    limited = [p.name async for p in Person.find().sort_by(P.name).offset(1).limit(3).iterate(page_size=2)]
    assert limited == sorted(p.name for p in people.values())[1:4]


async def test_all_reads_every_result_beyond_one_page(search_client, monkeypatch):
    await Person.create_index()
    for i in range(10):
        await Person(name=f"n{i}", age=i).save()
    monkeypatch.setattr(_query, "PAGE_SIZE", 3)
    recorder = Recorder(search_client)
    with installed(connection, recorder):
        found = await Person.find().sort_by(P.age).all()
    assert [p.age for p in found] == list(range(10))
    assert len(recorder.commands) == 2  # one page, then the rest in one request


async def test_only_reads_the_projected_fields_into_partial_instances(search_client, people):
    found = await Person.find(P.name == "Grace").only(P.name, "age", P.job).all()
    [grace] = found
    assert grace.name == "Grace" and grace.age == 85
    assert grace.job.address.city == "Arlington"
    assert grace.key == people["grace"].key
    with pytest.raises(FieldNotLoadedError):
        str(grace.bio)
    assert grace.model_dump() == {"name": "Grace", "age": 85, "job": people["grace"].job.model_dump()}
    await grace.load()
    assert grace == await Person.get(grace.key)
    with pytest.raises(QueryError, match="top-level"):
        Person.find().only(P.job.title)


# -- hostile values -------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "  two spaces  ",
    "a b",
    "a,b",
    "Smith, John",
    "x} | @age:[-inf +inf]",
    "*",
    "**",
    "?",
    "\\",
    "\\\\x",
    '"quoted"',
    "'single'",
    "$p0",
    "@name:{Ada}",
    "-Ada",
    "(Ada)",
    "[1 2]",
    "{}",
    "a|b",
    "w'*'",
    "%fuzzy%",
    "tab\there",
    "new\nline",
    "\r",
    "\x01ctrl\x1f",
    "\x7f",
    "日本語",
    "Straße",
    "ÜNÏCÖDÉ",
    "emoji 😀",
    "e\u0301",
    "é",
    "\u00a0nbsp",
    "\u200bzero-width",
    "\u3000ideographic",
    "x—y",
    "Ada",
    "ada",
    "Ad",
    "A",
    "true",
    "null",
]


def _random_strings(count: int) -> list[str]:
    rng = random.Random(1815)
    alphabet = "aA0 ,.<>{}[]\"':;!@#$%^&*()-+=~|/\\?`_\t\n" + "éß日😀\u00a0\u3000"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(count)]


async def test_hostile_strings_match_exactly_with_no_injection(search_client):
    await Person.create_index()
    values = list(dict.fromkeys(HOSTILE + _random_strings(120)))
    stored = {}
    for i, value in enumerate(values):
        person = Person(name=value, tags=[value, f"other{i}"], age=i)
        await person.save()
        stored[person.key] = value
    assert await Person.find().count() == len(values)
    for value in values:
        found = {p.key for p in await Person.find(P.name == value).all()}
        assert found == {k for k, v in stored.items() if v == value}, repr(value)
        found = {p.key for p in await Person.find(contains(P.tags, value)).all()}
        assert found == {k for k, v in stored.items() if v == value}, repr(value)
        found = {p.key for p in await Person.find(P.name != value).all()}
        assert found == {k for k, v in stored.items() if v != value}, repr(value)
        for length in (1, 2, 3):
            prefix = value[:length]
            if not prefix or len(prefix.encode()) == 1 and prefix in "*?\\":
                continue
            found = {p.key for p in await Person.find(P.name.startswith(prefix)).all()}
            assert found == {k for k, v in stored.items() if v.startswith(prefix)}, repr(prefix)
    some = values[::7]
    found = {p.key for p in await Person.find(one_of(P.name, some)).all()}
    assert found == {k for k, v in stored.items() if v in some}


async def test_values_that_cannot_be_searched_raise_before_anything_is_sent(search_client):
    await Person.create_index()
    recorder = Recorder(search_client)
    with installed(connection, recorder):
        with pytest.raises(QueryError, match="NUL"):
            await Person.find(P.name == "a\x00b").all()
        for prefix in ("*", "?", "\\"):
            with pytest.raises(QueryError, match="one-byte"):
                await Person.find(P.name.startswith(prefix)).all()
        with pytest.raises(QueryError, match="empty prefix"):
            await Person.find(P.name.startswith("")).all()
        with pytest.raises(QueryError, match="no word"):
            await Person.find(match(P.bio, " ,.; ")).all()
    assert recorder.commands == []


async def test_text_match_treats_query_syntax_as_words(search_client):
    await Person.create_index()
    await Person(name="a", bio="hello world").save()
    await Person(name="b", bio="other words").save()
    assert names(await Person.find(match(P.bio, "hello) | @name:{b}")).all()) == set()
    assert names(await Person.find(match(P.bio, "@bio:hello*")).all()) == set()
    assert names(await Person.find(match(P.bio, "-(world) | words")).all()) == set()
    assert names(await Person.find(match(P.bio, "world; hello!")).all()) == {"a"}


# -- errors before anything is sent --------------------------------------------------------------


async def test_a_field_that_is_not_indexed_raises_naming_it(search_client):
    await Person.create_index()
    recorder = Recorder(search_client)
    with installed(connection, recorder):
        with pytest.raises(FieldNotIndexedError, match=r"Person\.notes is not indexed") as caught:
            await Person.find(P.notes == "x").all()
        assert caught.value.field == "Person.notes"
        with pytest.raises(FieldNotIndexedError, match=r"Person\.job\.address\.street"):
            Person.find(P.job.address.street == "x")
        with pytest.raises(FieldNotIndexedError, match="nested model"):
            Person.find(P.job == Job())
        with pytest.raises(AttributeError, match="no field 'nmae'"):
            Person.find(P.nmae == "x")  # type: ignore[attr-defined]
    assert recorder.commands == []


def test_python_operators_that_cannot_build_conditions_are_refused():
    with pytest.raises(TypeError, match="&"):
        _ = (P.age > 1) and (P.age < 5)
    with pytest.raises(TypeError, match="contains"):
        _ = "x" in P.tags
    with pytest.raises(QueryError, match="plain bool"):
        Person.find(P is None)
    with pytest.raises(QueryError, match="ranges need a NUMERIC"):
        Person.find(P.name > "a")
    with pytest.raises(QueryError, match="TEXT"):
        Person.find(P.bio == "x")
    with pytest.raises(QueryError, match="is a list"):
        Person.find(P.tags == ["x"])
    with pytest.raises(QueryError, match="cannot be compared"):
        Person.find(P.age == "36")
    with pytest.raises(QueryError, match="cannot be compared"):
        Person.find(P.born == datetime.datetime(2000, 1, 1))
    with pytest.raises(QueryError, match="cannot be compared"):
        Person.find(P.kind == "c")


def test_conditions_of_another_model_are_refused():
    class Other(BaseRedisModel):
        name: Annotated[str, Indexed()] = ""

    with pytest.raises(QueryError, match="Other"):
        Person.find(F(Other).name == "x")
    with pytest.raises(QueryError, match="cannot be combined"):
        (F(Other).name == "x") & (P.name == "x")
