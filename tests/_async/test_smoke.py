"""A first end-to-end pass: save, get, field set and load."""

from __future__ import annotations

from redis_pydantic._async.model import BaseRedisModel


class Person(BaseRedisModel):
    name: str
    age: int
    tags: list[str] = []


async def test_save_writes_the_whole_document(client, stored):
    person = Person(name="Ada", age=36)
    await person.save()
    assert await stored.doc(person.key) == {"name": "Ada", "age": 36, "tags": []}


async def test_get_returns_a_validated_instance_with_the_same_pk(client, stored):
    person = Person(name="Ada", age=36, tags=["x"])
    await person.save()
    loaded = await Person.get(person.key)
    assert loaded.pk == person.pk
    assert loaded.model_dump() == {"name": "Ada", "age": 36, "tags": ["x"]}
