"""JSON paths and Redis keys: the single place where they are built.

Model fields are Python identifiers and appear in paths as ``.name``. Dict keys can be any
string. RedisJSON's path parser takes a bracketed key verbatim between quotes and does not
unescape backslash sequences, so a key is written inside whichever quote character it does not
contain. A key that holds a backslash or both quote characters, or starts with a space, cannot
be written in a path at all (nor, for fakeredis's sake, the key ``*``): :func:`is_path_safe_key` reports that, and the callers then use a
Lua script that edits the object without a path to the key.
"""

from __future__ import annotations

import binascii
import functools
import itertools
import os
from collections.abc import Iterable

PathPart = str | int

ROOT = "$"


def is_path_safe_key(key: str) -> bool:
    """Whether ``key`` can be addressed as ``$..["key"]`` on RedisJSON.

    The path parser drops spaces that open a bracketed key (``[" a"]`` addresses ``"a"``), so a
    key starting with a space is not path safe either.
    """
    # fakeredis with jsonpath-ng before 1.16 (the newest on Python 3.10) reads ``["*"]`` as a
    # wildcard and would change every key, so the one-character key ``*`` goes the Lua way too.
    return "\\" not in key and not ('"' in key and "'" in key) and not key.startswith(" ") and key != "*"


def key_segment(key: str) -> str:
    """The bracketed path segment for the dict key ``key`` (which must be path safe)."""
    if '"' in key:
        return "['" + key + "']"
    return '["' + key + '"]'


@functools.lru_cache(maxsize=4096)
def member_segment(key: str) -> str | None:
    """The bracketed path segment for the dict key ``key``, or ``None`` when it is not path safe
    (remembered: a dict field's keys recur)."""
    return key_segment(key) if is_path_safe_key(key) else None


@functools.lru_cache(maxsize=4096)
def _cached_path(parts: tuple[PathPart, ...]) -> str:
    return _build_path(parts)


def json_path_for(parts: Iterable[PathPart]) -> str:
    """The RedisJSON path of a field: ``("profile", "skills")`` -> ``$.profile.skills``.

    Parts are field names (ASCII identifiers are written as ``.name``, anything else is
    bracketed) or list indexes (ints).
    """
    if type(parts) is tuple:
        return _cached_path(parts)
    return _build_path(tuple(parts))


def _build_path(parts: tuple[PathPart, ...]) -> str:
    out = [ROOT]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier() and part.isascii():
            out.append("." + part)
        else:
            out.append(key_segment(part))
    return "".join(out)


def new_pk() -> str:
    """A new random primary key."""
    # The 128 random bits of uuid4, without building a UUID object (several times faster).
    return os.urandom(16).hex()


def new_pks(n: int) -> list[str]:
    """``n`` new random primary keys, drawn from the OS in one call."""
    digits = os.urandom(16 * n).hex()
    return [digits[i : i + 32] for i in range(0, 32 * n, 32)]


# --------------------------------------------------------------------------- lock keys
#
# A lock key must never be a document key (else a document whose pk spells it would hold or free
# someone else's lock), and must hash to the document's Redis Cluster slot (so one script can
# check the lock and write the document). Document keys are "<prefix>:<pk>" and a prefix never
# starts with "{", so lock keys all start with "{": none of them is a document key, whatever the
# pk. What follows the "{" is a hash tag with the document's slot:
#
#   "{<document key>}/<action>"                  the document key holds no "}" and no hash tag;
#   "{<tag>}/<action>/<document key>"            otherwise, where <tag> is the document key's own
#                                                hash tag, or a "}"-free string of the same slot.
#
# An action holds no "/", so the two forms never meet and each names one (document, action).

SLOTS = 16384


def hash_tag(key: str) -> str | None:
    """The hash tag of ``key`` (the text Redis Cluster hashes instead of the whole key), if any.

    As Redis does: the text between the first ``{`` and the first ``}`` after it, when not empty.
    """
    start = key.find("{")
    if start != -1:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return None


def hash_slot(key: str) -> int:
    """The Redis Cluster hash slot of ``key`` (CRC16/XMODEM of the hashed part, modulo 16384)."""
    tag = hash_tag(key)
    return binascii.crc_hqx((key if tag is None else tag).encode(), 0) % SLOTS


@functools.lru_cache(maxsize=64)
def _tag_of_slot(slot: int) -> str:
    """A short hash tag without braces whose slot is ``slot`` (found by search, the same on every run)."""
    for n in itertools.count():
        tag = f"slot-{n}"
        if binascii.crc_hqx(tag.encode(), 0) % SLOTS == slot:
            return tag
    raise AssertionError("unreachable")  # pragma: no cover - every slot is reached


def check_lock_action(action: object) -> str:
    """``action`` if it can name a lock: a non-empty str without ``/``; else InvalidArgumentError."""
    from redis_pydantic.errors import InvalidArgumentError

    if not isinstance(action, str) or not action or "/" in action:
        raise InvalidArgumentError(f"a lock action must be a non-empty str without '/', not {action!r}")
    return action


def slot_tag(key: str) -> str:
    """A hash tag without braces whose slot is the slot of ``key``: the key's own hash tag, the
    key itself when it holds no ``}``, or else a short text of the same slot."""
    tag = hash_tag(key)
    if tag is not None:
        return tag
    if "}" not in key:
        return key
    return _tag_of_slot(hash_slot(key))


def lock_key_for(document_key: str, action: str) -> str:
    """The Redis key of the lock ``action`` on the document at ``document_key``."""
    tag = slot_tag(document_key)
    if tag == document_key:
        return "{" + document_key + "}/" + action
    return "{" + tag + "}/" + action + "/" + document_key


def colocated_pks(key_prefix: str, near: str, n: int) -> list[str]:
    """``n`` new random pks whose keys (``"<key_prefix>:<pk>"``) are in the slot of the key ``near``.

    Each pk is a hash tag of that slot followed by random hex digits: ``{<tag>}<hex>``. A
    ``key_prefix`` with a ``{`` that no ``}`` closes would swallow that tag:
    InvalidArgumentError.
    """
    tag = "{" + slot_tag(near) + "}"
    pks = [tag + pk for pk in new_pks(n)]
    if pks and hash_slot(f"{key_prefix}:{pks[0]}") != hash_slot(near):
        from redis_pydantic.errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"keys of the prefix {key_prefix!r} cannot be placed in the slot of {near!r}: the prefix "
            "opens a '{' that no '}' closes, which changes the hash tag of every key"
        )
    return pks
