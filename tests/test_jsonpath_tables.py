"""The jsonpath-ng parse tables the test harness builds once (tests/jsonpath_tables.py) change
how fast fakeredis parses JSON paths, never what a path means."""

from __future__ import annotations

import sys

import fakeredis
import pytest
from jsonpath_ng._ply import yacc
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse as ext_parse
from jsonpath_ng.ext.parser import ExtendedJsonPathParser
from jsonpath_ng.parser import JsonPathParser
from jsonpath_ng.parser import parse as plain_parse

from tests import jsonpath_tables

#: Paths of the kinds the library sends (fields, dict keys, list indexes) and of the other kinds
#: fakeredis parses (wildcards, recursive descent, slices, filters).
PATHS = [
    "$",
    "$.name",
    "$.address.city",
    '$.items["key-1"]',
    '$["with space"]["a.b"]',
    "$.tags[0]",
    "$.tags[-1]",
    "$.tags[1:3]",
    "$.tags[*]",
    "$.*",
    "$..city",
    "$.people[?(@.age > 30)].name",
    '$.people[?(@.name == "b")]',
]
BAD_PATHS = ["$.[", "$..", "$.a[?(@.b >", "$.a]"]
DOCUMENT = {
    "name": "n",
    "address": {"city": "c"},
    "items": {"key-1": 1},
    "with space": {"a.b": 2},
    "tags": ["a", "b", "c", "d"],
    "people": [{"name": "a", "age": 20, "city": "x"}, {"name": "b", "age": 40}],
}


def _parsed(parse, path: str) -> tuple[str, list[object]]:
    try:
        found = parse(path)
    except (JsonPathLexerError, JsonPathParserError) as exc:
        return f"error: {type(exc).__name__}: {exc}", []
    return repr(found), [match.value for match in found.find(DOCUMENT)]


def test_tables_are_built_exactly_when_jsonpath_ng_ships_none():
    assert (jsonpath_tables.INSTALLED == []) is jsonpath_tables.ships_parse_tables()
    for name in jsonpath_tables.INSTALLED:
        assert name in sys.modules


def test_no_jsonpath_parser_builds_its_tables_again(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("jsonpath-ng generated its parse tables again")

    monkeypatch.setattr(yacc, "LRGeneratedTable", refuse)
    for parser_class in (JsonPathParser, ExtendedJsonPathParser):
        assert repr(parser_class().parse("$.a[0]")) == repr(JsonPathParser().parse("$.a[0]"))


@pytest.mark.parametrize("parse", [plain_parse, ext_parse], ids=["jsonpath_ng", "jsonpath_ng.ext"])
def test_paths_parse_as_with_tables_generated_from_the_grammar(parse, monkeypatch):
    with_tables = [_parsed(parse, path) for path in PATHS + BAD_PATHS]

    def no_table_module(self, module):
        raise ImportError(module)

    # What PLY does when no table module can be imported: generate the tables from the grammar.
    monkeypatch.setattr(yacc.LRTable, "read_table", no_table_module)
    generated = [_parsed(parse, path) for path in PATHS + BAD_PATHS]
    assert with_tables == generated
    # Filters are jsonpath_ng.ext's: the plain parser refuses them.
    refused = [
        path for path, (parsed, _) in zip(PATHS, generated, strict=False) if parsed.startswith("error")
    ]
    assert refused == ([] if parse is ext_parse else [path for path in PATHS if "?" in path])
    assert all(parsed.startswith("error") for parsed, _ in generated[len(PATHS) :])


def test_fakeredis_json_paths_give_the_same_answers_with_the_tables():
    client = fakeredis.FakeRedis(decode_responses=True)
    client.json().set("doc", "$", DOCUMENT)
    assert client.json().get("doc", '$.items["key-1"]') == [1]
    assert client.json().get("doc", "$.people[?(@.age > 30)].name") == ["b"]
    assert client.json().get("doc", "$..city") == ["c", "x"]
