"""Field ops on a model never saved (they create the document) or whose document was deleted."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, model_validator

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import FieldValidationError, KeyNotFoundError

#: Also on a real Redis Cluster (see tests/conftest.py).
pytestmark = pytest.mark.cluster


class Profile(BaseModel):
    skills: list[str] = Field(default_factory=list)


class ShoppingCart(BaseRedisModel):
    user_id: str
    items: list[str] = []
    quantities: dict[str, int] = {}
    total_amount: int = 0
    note: str = ""
    profile: Profile = Field(default_factory=Profile)


EMPTY_CART = {
    "user_id": "u",
    "items": [],
    "quantities": {},
    "total_amount": 0,
    "note": "",
    "profile": {"skills": []},
}


# -- never saved ------------------------------------------------------------------------------


async def test_aappend_on_a_never_saved_model_creates_the_document_first(client, stored):
    cart = ShoppingCart(user_id="u")
    await cart.items.aappend("p")
    assert await stored.doc(cart.key) == {**EMPTY_CART, "items": ["p"]}
    assert cart.items == ["p"]


async def test_aset_item_on_a_never_saved_model_creates_the_document_first(client, stored):
    cart = ShoppingCart(user_id="u")
    await cart.quantities.aset_item("p", 2)
    assert await stored.doc(cart.key) == {**EMPTY_CART, "quantities": {"p": 2}}
    assert cart.quantities == {"p": 2}


async def test_aincrease_on_a_never_saved_model_creates_the_document_first(client, stored):
    cart = ShoppingCart(user_id="u", total_amount=100)
    assert await cart.total_amount.aincrease(4899) == 4999
    assert (await stored.doc(cart.key))["total_amount"] == 4999
    assert cart.total_amount == 4999


async def test_model_aupdate_on_a_never_saved_model_creates_the_document_first(client, stored):
    cart = ShoppingCart(user_id="u", items=["a"])
    await cart.aupdate(note="gift", total_amount=5)
    assert await stored.doc(cart.key) == {**EMPTY_CART, "items": ["a"], "note": "gift", "total_amount": 5}


async def test_nested_op_on_a_never_saved_model_creates_the_document_first(client, stored):
    cart = ShoppingCart(user_id="u")
    await cart.profile.skills.aappend("s")
    assert await stored.doc(cart.key) == {**EMPTY_CART, "profile": {"skills": ["s"]}}
    assert cart.profile.skills == ["s"]


async def test_apop_on_a_never_saved_model_creates_the_document_then_pops(client, stored):
    cart = ShoppingCart(user_id="u", items=["a", "b"])
    assert await cart.items.apop() == "b"
    assert (await stored.doc(cart.key))["items"] == ["a"]
    assert cart.items == ["a"]


REFUSED_FIRST_OPS = {
    "list apop of an empty list": (lambda c: c.items.apop(), IndexError),
    "list apop out of range": (lambda c: c.items.apop(3), IndexError),
    "dict apop of a missing key": (lambda c: c.quantities.apop("nope"), KeyError),
    "dict apopitem of an empty dict": (lambda c: c.quantities.apopitem(), KeyError),
    "aincrease beyond 64 bits": (lambda c: c.total_amount.aincrease(2**63 - 1), FieldValidationError),
}


@pytest.mark.parametrize("name", REFUSED_FIRST_OPS)
async def test_a_refused_first_op_on_a_never_saved_model_creates_nothing(client, stored, name):
    op, error = REFUSED_FIRST_OPS[name]
    cart = ShoppingCart(user_id="u", total_amount=1)
    with pytest.raises(error):
        await op(cart)
    assert await stored.doc(cart.key) is None  # no document was created for it
    assert cart.items == [] and cart.quantities == {} and cart.total_amount == 1
    # Still never saved: the next operation creates the document, with its change.
    await cart.items.aappend("a")
    assert await stored.doc(cart.key) == {**EMPTY_CART, "items": ["a"], "total_amount": 1}


async def test_ops_after_the_creating_op_use_the_stored_document(client, stored):
    cart = ShoppingCart(user_id="u")
    await cart.items.aappend("a")
    await client.execute_command("JSON.SET", cart.key, "$.note", '"changed elsewhere"')
    await cart.items.aappend("b")
    held = await stored.doc(cart.key)
    assert held["items"] == ["a", "b"]
    assert held["note"] == "changed elsewhere"


async def test_a_never_saved_instance_does_not_overwrite_an_existing_document(client, stored):
    first = ShoppingCart(user_id="first", items=["x"])
    await first.save()
    second = ShoppingCart(user_id="second", pk=first.pk)
    await second.items.aappend("y")
    held = await stored.doc(first.key)
    assert held["user_id"] == "first"
    assert held["items"] == ["x", "y"]
    assert second.items == ["x", "y"]


class Counted(BaseRedisModel):
    low: int = 0
    high: int = 10
    items: list[str] = []


class Checked(Counted):
    @model_validator(mode="after")
    def ordered(self) -> Checked:
        if self.low > self.high:
            raise ValueError("low > high")
        return self


async def queued_aappend(model: Counted) -> None:
    async with model.pipeline():
        await model.items.aappend("queued")


FIRST_OPS_ON_A_DOCUMENT_ANOTHER_CLIENT_CREATED = {
    "aappend": lambda m: m.items.aappend("mine"),
    "aincrease": lambda m: m.low.aincrease(1),
    "set": lambda m: m.high.set(20),
    "aupdate": lambda m: m.aupdate(high=30),
    "pipeline": queued_aappend,
}


@pytest.mark.parametrize(
    ("cls", "op"),
    [(Counted, op) for op in sorted(FIRST_OPS_ON_A_DOCUMENT_ANOTHER_CLIENT_CREATED)]
    # (A check-and-set write is refused in pipeline(), as documented.)
    + [(Checked, op) for op in sorted(FIRST_OPS_ON_A_DOCUMENT_ANOTHER_CLIENT_CREATED) if op != "pipeline"],
)
async def test_a_first_op_on_a_document_another_client_created_leaves_the_model_as_redis_holds_it(
    client, stored, cls, op
):
    # The op applies to the existing document, and the model then holds that document, not the
    # values it was built with (which were never written). A model validator makes the writes
    # check-and-set: that path too.
    mine = cls(low=5, high=6, items=["built"])
    theirs = cls(low=1, high=50, items=["theirs"], pk=mine.pk)
    await theirs.save()
    await FIRST_OPS_ON_A_DOCUMENT_ANOTHER_CLIENT_CREATED[op](mine)
    held = await stored.doc(mine.key)
    assert mine.model_dump(mode="json") == held
    assert (await cls.get(mine.key)).model_dump(mode="json") == held
    assert held["items"][0] == "theirs"


# -- deleted ------------------------------------------------------------------------------------
# Each op: (call, name of the field it touches). After the document is deleted every op must raise
# KeyNotFoundError, leave the local value as it was, and never create the document again.

OPS_THAT_RAISE_EVERYWHERE = {
    "list aappend": (lambda c: c.items.aappend("z"), "items"),
    "list aextend": (lambda c: c.items.aextend(["y", "z"]), "items"),
    "list ainsert at 0": (lambda c: c.items.ainsert(0, "z"), "items"),
    "list ainsert at 1": (lambda c: c.items.ainsert(1, "z"), "items"),
    "list apop": (lambda c: c.items.apop(), "items"),
    "list apop at 0": (lambda c: c.items.apop(0), "items"),
    "dict apop": (lambda c: c.quantities.apop("a"), "quantities"),
    "dict apop with default": (lambda c: c.quantities.apop("a", 0), "quantities"),
    "dict adel_item": (lambda c: c.quantities.adel_item("a"), "quantities"),
    "dict apopitem": (lambda c: c.quantities.apopitem(), "quantities"),
    "dict aupdate of several keys": (lambda c: c.quantities.aupdate(b=2, c=3), "quantities"),
    "aincrease": (lambda c: c.total_amount.aincrease(5), "total_amount"),
    "nested aappend": (lambda c: c.profile.skills.aappend("z"), "profile"),
}

# These are single JSON.SET / JSON.MSET commands at a non-root path. Real Redis refuses them on a
# missing key; fakeredis answers OK and writes nothing (a documented fakeredis deviation).
OPS_WITH_A_FAKEREDIS_DEVIATION = {
    "dict aset_item": (lambda c: c.quantities.aset_item("b", 2), "quantities"),
    "dict aupdate of one key": (lambda c: c.quantities.aupdate(b=2), "quantities"),
    "list aclear": (lambda c: c.items.aclear(), "items"),
    "dict aclear": (lambda c: c.quantities.aclear(), "quantities"),
    "model aupdate": (lambda c: c.aupdate(note="n", total_amount=9), "note"),
    "field set": (lambda c: c.note.set("n"), "note"),
}


async def saved_then_deleted_cart() -> ShoppingCart:
    cart = ShoppingCart(user_id="u", items=["a", "b"], quantities={"a": 1}, total_amount=3)
    await cart.save()
    await ShoppingCart.try_delete(cart.key)
    return cart


@pytest.mark.parametrize("op", OPS_THAT_RAISE_EVERYWHERE.values(), ids=OPS_THAT_RAISE_EVERYWHERE.keys())
async def test_an_op_on_a_deleted_document_raises_and_does_not_recreate_it(client, stored, op):
    call, field = op
    cart = await saved_then_deleted_cart()
    before = cart.model_dump()
    with pytest.raises(KeyNotFoundError):
        await call(cart)
    assert not await stored.exists(cart.key)
    assert cart.model_dump()[field] == before[field]


@pytest.mark.parametrize(
    "op", OPS_WITH_A_FAKEREDIS_DEVIATION.values(), ids=OPS_WITH_A_FAKEREDIS_DEVIATION.keys()
)
async def test_a_write_on_a_deleted_document_raises_on_redis_and_never_recreates_it(
    client, stored, backend, op
):
    call, field = op
    cart = await saved_then_deleted_cart()
    before = cart.model_dump()
    if backend == "fake":
        await call(cart)  # fakeredis deviation: OK without writing, so the local value changes
    else:
        with pytest.raises(KeyNotFoundError):
            await call(cart)
        assert cart.model_dump()[field] == before[field]
    assert not await stored.exists(cart.key)


async def test_an_op_on_a_document_deleted_by_another_instance_raises(client, stored):
    cart = ShoppingCart(user_id="u")
    await cart.save()
    other = await ShoppingCart.get(cart.key)
    await other.delete()
    with pytest.raises(KeyNotFoundError):
        await cart.items.aappend("p")
    assert not await stored.exists(cart.key)
    assert cart.items == []


async def test_an_op_on_a_document_deleted_by_its_own_instance_raises(client, stored):
    cart = ShoppingCart(user_id="u")
    await cart.save()
    await cart.delete()
    with pytest.raises(KeyNotFoundError):
        await cart.items.aappend("p")
    assert not await stored.exists(cart.key)


async def test_a_never_saved_instance_still_creates_after_another_was_deleted(client, stored):
    cart = await saved_then_deleted_cart()
    fresh = ShoppingCart(user_id="v", pk=cart.pk)
    await fresh.items.aappend("p")
    assert (await stored.doc(cart.key))["items"] == ["p"]
    assert (await stored.doc(cart.key))["user_id"] == "v"


async def test_load_of_a_field_of_a_deleted_document_raises(client, stored):
    cart = await saved_then_deleted_cart()
    with pytest.raises(KeyNotFoundError):
        await cart.items.load()
    assert cart.items == ["a", "b"]
