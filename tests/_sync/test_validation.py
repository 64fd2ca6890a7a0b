# This file is generated from tests/_async/test_validation.py by setup_unasync.py. Do not edit it by hand.
"""Validation: field set() validates like pydantic, aliases, defaults, and model inheritance."""

from __future__ import annotations

import datetime
import itertools

import pytest
from pydantic import Field, field_validator

from redis_pydantic._sync.model import BaseRedisModel
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


def test_set_refuses_a_value_of_the_wrong_type(client, stored):
    account = Account(count=5)
    account.save()
    with pytest.raises(FieldValidationError) as caught:
        account.count.set("not_a_number")
    error = caught.value
    assert isinstance(error, TypeError)
    assert isinstance(error, RedisPydanticError)
    assert error.field == "Account.count"
    assert [e["type"] for e in error.errors()] == ["int_type"]
    assert error.errors()[0]["input"] == "not_a_number"
    assert stored.doc(account.key, "$.count") == 5
    assert account.count == 5


def test_set_does_not_coerce_numeric_strings(client, stored):
    account = Account(count=5)
    account.save()
    with pytest.raises(FieldValidationError):
        account.count.set("42")
    assert stored.doc(account.key, "$.count") == 5


def test_set_refuses_a_value_that_breaks_a_constraint(client, stored):
    account = Account(stock=3)
    account.save()
    with pytest.raises(FieldValidationError) as caught:
        account.stock.set(-1)
    assert isinstance(caught.value, TypeError)
    assert [e["type"] for e in caught.value.errors()] == ["greater_than_equal"]
    assert stored.doc(account.key, "$.stock") == 3
    assert account.stock == 3
    account.stock.set(0)
    assert stored.doc(account.key, "$.stock") == 0


def test_set_applies_field_validators(client, stored):
    account = Account()
    account.save()
    account.email.set("Ada@Example.COM")
    assert account.email == "ada@example.com"
    assert stored.doc(account.key, "$.email") == "ada@example.com"


def test_construction_applies_field_validators(client, stored):
    account = Account(email="GRACE@NAVY.MIL")
    account.save()
    assert stored.doc(account.key, "$.email") == "grace@navy.mil"


def test_an_alias_constructs_and_the_document_uses_the_field_name(client, stored):
    person = Person(fullName="Ada Lovelace")
    assert person.full_name == "Ada Lovelace"
    person.save()
    assert stored.doc(person.key) == {"full_name": "Ada Lovelace", "age": 0}
    loaded = Person.get(person.key)
    assert loaded.full_name == "Ada Lovelace"


def test_an_aliased_field_sets_and_loads_by_field_name(client, stored):
    person = Person(fullName="Ada")
    person.save()
    person.full_name.set("Grace")
    assert stored.doc(person.key) == {"full_name": "Grace", "age": 0}
    client.execute_command("JSON.SET", person.key, "$.full_name", '"Hopper"')
    assert person.full_name.load() == "Hopper"


def test_a_partial_instance_accepts_an_alias(client):
    person = Person(fullName="Ada", age=36)
    person.save()
    partial = Person(fullName="ignored")
    partial.pk = person.pk
    partial.age.load()
    assert partial.age == 36


def test_defaults_are_stored_with_the_document(client, stored):
    model = Defaults()
    model.save()
    assert stored.doc(model.key) == {
        "name": "anon",
        "tags": [],
        "created": "2020-01-02",
        "serial": model.serial,
    }


def test_default_factories_run_for_each_instance(client, stored):
    first, second = Defaults(), Defaults()
    assert first.serial != second.serial
    first.tags.append("only-first")
    assert second.tags == []
    first.save()
    second.save()
    assert stored.doc(second.key, "$.serial") == second.serial
    assert (stored.doc(first.key))["tags"] == ["only-first"]
    assert (stored.doc(second.key))["tags"] == []


def test_a_field_missing_from_the_document_reads_as_its_default(client):
    client.execute_command("JSON.SET", "Defaults:old", "$", '{"tags": ["x"]}')
    loaded = Defaults.get("Defaults:old")
    assert loaded.name == "anon"
    assert loaded.tags == ["x"]
    model = Defaults(pk="old", name="local")
    assert model.name.load() == "anon"
    assert model.name == "anon"


def test_a_subclass_adds_fields_and_both_save_and_get(client, stored):
    animal = Animal(name="cat")
    dog = Dog(name="rex", breed="collie")
    animal.save()
    dog.save()
    assert animal.key.startswith("Animal:")
    assert dog.key.startswith("Dog:")
    assert stored.doc(animal.key) == {"name": "cat", "legs": 4}
    assert stored.doc(dog.key) == {"name": "rex", "legs": 4, "breed": "collie"}
    loaded_dog = Dog.get(dog.key)
    assert type(loaded_dog) is Dog
    assert loaded_dog.breed == "collie"
    assert (Animal.get(animal.key)).name == "cat"
    loaded_dog.breed.set("husky")
    loaded_dog.legs.set(3)
    assert stored.doc(dog.key) == {"name": "rex", "legs": 3, "breed": "husky"}
    with pytest.raises(WrongModelKeyError):
        Animal.get(dog.key)
