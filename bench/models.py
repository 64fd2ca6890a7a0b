"""The document every contender stores, and the model classes that describe it.

No ``from __future__ import annotations`` here: the classes are built inside functions and
their annotations must be real types for pydantic (and rapyer / redis-om) to resolve.
"""

import importlib.util
from typing import Any

from pydantic import BaseModel

TAGS = 5
META = 5


class Profile(BaseModel):
    title: str
    skills: list[str] = []


class PlainUser(BaseModel):
    """The same shape as a plain pydantic model: the memory baseline."""

    name: str
    age: int
    tags: list[str] = []
    metadata: dict[str, str] = {}
    score: int = 0
    profile: Profile


def document(extra_tags: int = 0, extra_meta: int = 0) -> dict[str, Any]:
    """A realistic user document; ``extra_*`` add list items / dict keys for pop benchmarks."""
    metadata = {f"k{i}": f"value-{i}" for i in range(META)}
    metadata.update({f"p{i}": f"pop-{i}" for i in range(extra_meta)})
    return {
        "name": "Ada Lovelace",
        "age": 36,
        "tags": [f"tag-{i}" for i in range(TAGS + extra_tags)],
        "metadata": metadata,
        "score": 0,
        "profile": {"title": "Countess of Lovelace", "skills": ["maths", "poetry", "engines"]},
    }


def ours_user_class(base: type, prefix: str, client: Any) -> Any:
    """A redis-pydantic model of the document for one face (``base`` is its BaseRedisModel)."""

    class User(base):  # type: ignore[valid-type,misc]
        name: str
        age: int
        tags: list[str] = []
        metadata: dict[str, str] = {}
        score: int = 0
        profile: Profile

        class Meta:
            redis = client
            key_prefix = prefix

    return User


def ours_indexed_user_class(base: type, prefix: str, client: Any) -> Any:
    """The same model with indexed fields, for find() (its own prefix, so its index sees only
    the documents of the find benchmark)."""
    from typing import Annotated

    from redis_pydantic import Indexed

    class User(base):  # type: ignore[valid-type,misc]
        name: Annotated[str, Indexed()]
        age: Annotated[int, Indexed(sortable=True)]
        tags: Annotated[list[str], Indexed()] = []
        metadata: dict[str, str] = {}
        score: int = 0
        profile: Profile

        class Meta:
            redis = client
            key_prefix = prefix

    return User


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def rapyer_user_class() -> Any:
    """rapyer's model of the document (asyncio only); keys are ``RpbRapyerUser:<pk>``."""
    from rapyer import AtomicRedisModel

    class RpbRapyerUser(AtomicRedisModel):
        name: str
        age: int
        tags: list[str] = []
        metadata: dict[str, str] = {}
        score: int = 0
        profile: Profile

    return RpbRapyerUser


def redis_om_user_class(face: str, client: Any, prefix: str) -> Any:
    """redis-om's JsonModel of the document (``aredis_om`` for asyncio, ``redis_om`` for sync)."""
    if face == "async":
        from aredis_om import EmbeddedJsonModel, JsonModel
    else:
        from redis_om import EmbeddedJsonModel, JsonModel

    class OmProfile(EmbeddedJsonModel):
        title: str
        skills: list[str] = []

        class Meta:
            database = client

    class RpbOmUser(JsonModel, index=True):  # type: ignore[call-arg]  # redis-om is untyped here
        name: str
        age: int
        tags: list[str] = []
        metadata: dict[str, str] = {}
        score: int = 0
        profile: OmProfile

        class Meta:
            database = client
            global_key_prefix = prefix

    return RpbOmUser
