"""Validation: field set() validates like pydantic, aliases, defaults, and model inheritance."""

from __future__ import annotations

import datetime
import itertools

import pytest
from pydantic import Field, field_validator

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, RedisPydanticError, WrongModelKeyError


class Account(BaseRedisModel):
    count: int = 0
    stock: int = Field(default=0, ge=0)
    email: str = ""

    @field_validator("email")
    @classmethod
    def lowercase(cls, value: str) -> str:
        return value.lower()


class Person(BaseRedisModel):
    full_name: str = Field(alias="fullName")
    age: int = 0


_serial = itertools.count(1)


class Defaults(BaseRedisModel):
    name: str = "anon"
    tags: list[str] = Field(default_factory=list)
    created: datetime.date = Field(default_factory=lambda: datetime.date(2020, 1, 2))
    serial: int = Field(default_factory=lambda: next(_serial))


class Animal(BaseRedisModel):
    name: str
    legs: int = 4


class Dog(Animal):
    breed: str = "mixed"


async def test_set_refuses_a_value_of_the_wrong_type(client, stored):
    account = Account(count=5)
    await account.save()
    with pytest.raises(FieldValidationError) as caught:
        await account.count.set("not_a_number")
    error = caught.value
    assert isinstance(error, TypeError)
    assert isinstance(error, RedisPydanticError)
    assert error.field == "Account.count"
    assert [e["type"] for e in error.errors()] == ["int_type"]
    assert error.errors()[0]["input"] == "not_a_number"
    assert await stored.doc(account.key, "$.count") == 5
    assert account.count == 5


async def test_set_does_not_coerce_numeric_strings(client, stored):
    account = Account(count=5)
    await account.save()
    with pytest.raises(FieldValidationError):
        await account.count.set("42")
    assert await stored.doc(account.key, "$.count") == 5


async def test_set_refuses_a_value_that_breaks_a_constraint(client, stored):
    account = Account(stock=3)
    await account.save()
    with pytest.raises(FieldValidationError) as caught:
        await account.stock.set(-1)
    assert isinstance(caught.value, TypeError)
    assert [e["type"] for e in caught.value.errors()] == ["greater_than_equal"]
    assert await stored.doc(account.key, "$.stock") == 3
    assert account.stock == 3
    await account.stock.set(0)
    assert await stored.doc(account.key, "$.stock") == 0


async def test_set_applies_field_validators(client, stored):
    account = Account()
    await account.save()
    await account.email.set("Ada@Example.COM")
    assert account.email == "ada@example.com"
    assert await stored.doc(account.key, "$.email") == "ada@example.com"


async def test_construction_applies_field_validators(client, stored):
    account = Account(email="GRACE@NAVY.MIL")
    await account.save()
    assert await stored.doc(account.key, "$.email") == "grace@navy.mil"


async def test_an_alias_constructs_and_the_document_uses_the_field_name(client, stored):
    person = Person(fullName="Ada Lovelace")
    assert person.full_name == "Ada Lovelace"
    await person.save()
    assert await stored.doc(person.key) == {"full_name": "Ada Lovelace", "age": 0}
    loaded = await Person.get(person.key)
    assert loaded.full_name == "Ada Lovelace"


async def test_an_aliased_field_sets_and_loads_by_field_name(client, stored):
    person = Person(fullName="Ada")
    await person.save()
    await person.full_name.set("Grace")
    assert await stored.doc(person.key) == {"full_name": "Grace", "age": 0}
    await client.execute_command("JSON.SET", person.key, "$.full_name", '"Hopper"')
    assert await person.full_name.load() == "Hopper"


async def test_a_partial_instance_accepts_an_alias(client):
    person = Person(fullName="Ada", age=36)
    await person.save()
    partial = Person(fullName="ignored")
    partial.pk = person.pk
    await partial.age.load()
    assert partial.age == 36


async def test_defaults_are_stored_with_the_document(client, stored):
    model = Defaults()
    await model.save()
    assert await stored.doc(model.key) == {
        "name": "anon",
        "tags": [],
        "created": "2020-01-02",
        "serial": model.serial,
    }


async def test_default_factories_run_for_each_instance(client, stored):
    first, second = Defaults(), Defaults()
    assert first.serial != second.serial
    first.tags.append("only-first")
    assert second.tags == []
    await first.save()
    await second.save()
    assert await stored.doc(second.key, "$.serial") == second.serial
    assert (await stored.doc(first.key))["tags"] == ["only-first"]
    assert (await stored.doc(second.key))["tags"] == []


async def test_a_field_missing_from_the_document_reads_as_its_default(client):
    await client.execute_command("JSON.SET", "Defaults:old", "$", '{"tags": ["x"]}')
    loaded = await Defaults.get("Defaults:old")
    assert loaded.name == "anon"
    assert loaded.tags == ["x"]
    model = Defaults(pk="old", name="local")
    assert await model.name.load() == "anon"
    assert model.name == "anon"


async def test_a_subclass_adds_fields_and_both_save_and_get(client, stored):
    animal = Animal(name="cat")
    dog = Dog(name="rex", breed="collie")
    await animal.save()
    await dog.save()
    assert animal.key.startswith("Animal:")
    assert dog.key.startswith("Dog:")
    assert await stored.doc(animal.key) == {"name": "cat", "legs": 4}
    assert await stored.doc(dog.key) == {"name": "rex", "legs": 4, "breed": "collie"}
    loaded_dog = await Dog.get(dog.key)
    assert type(loaded_dog) is Dog
    assert loaded_dog.breed == "collie"
    assert (await Animal.get(animal.key)).name == "cat"
    await loaded_dog.breed.set("husky")
    await loaded_dog.legs.set(3)
    assert await stored.doc(dog.key) == {"name": "rex", "legs": 3, "breed": "husky"}
    with pytest.raises(WrongModelKeyError):
        await Animal.get(dog.key)
