"""jsonpath-ng's parse tables, built once per process when jsonpath-ng does not ship them.

fakeredis parses every JSON path it meets with ``jsonpath_ng.ext.parse`` (and keeps only the
last 64). jsonpath-ng 1.9 and later ship their LALR parse tables; jsonpath-ng 1.8.0, the newest
release for Python 3.10 (1.9 wants 3.11), builds them again for every path it parses
(``yacc(write_tables=0)``): about 20 ms a path on Python 3.10, against 0.3 ms with the shipped
tables. On the fake backend a test that writes 3000 dict keys (3000 paths) took 80 s that way,
and the whole suite ran twice as long on Python 3.10 as on 3.11.

PLY, which jsonpath-ng vendors, looks for a table module named after the parser before it builds
anything: ``jsonpath_ng.parser_jsonpath_parsetab`` for ``JsonPathParser`` and
``jsonpath_ng.ext.parser_jsonpath_parsetab`` for ``ExtendedJsonPathParser``. It uses that module
only when the grammar signature stored in it matches the parser's, and builds the tables as
before otherwise. :func:`install_parse_tables` builds each parser's tables once, with PLY's own
generator and writer (into a temporary directory, not into site-packages), and registers the
module under that name. The parsing itself is jsonpath-ng's, unchanged:
``tests/test_jsonpath_tables.py`` checks that paths parse to the same result with and without
the tables, and that no parser builds tables again once they are installed.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType

#: The table modules :func:`install_parse_tables` registered in this process.
INSTALLED: list[str] = []


def _parser_classes() -> list[type]:
    import jsonpath_ng.ext.parser
    import jsonpath_ng.parser

    return [jsonpath_ng.parser.JsonPathParser, jsonpath_ng.ext.parser.ExtendedJsonPathParser]


def ships_parse_tables() -> bool:
    """Whether the installed jsonpath-ng comes with its parse tables (1.9 and later)."""
    return importlib.util.find_spec("jsonpath_ng._ply_tables") is not None


def table_module_name(parser_class: type) -> str:
    """The module PLY imports for ``parser_class``'s tables: jsonpath-ng 1.8 names it after
    its ``parser.py`` (``parser_jsonpath_parsetab``) and PLY puts it in the class's package."""
    import jsonpath_ng.parser

    package = sys.modules[parser_class.__module__].__package__
    return f"{package}.{Path(jsonpath_ng.parser.__file__).stem}_jsonpath_parsetab"


def _build_table_module(parser_class: type, name: str, directory: Path) -> ModuleType:
    from jsonpath_ng._ply import yacc

    # An instance without __init__, which would build the tables once more: PLY only reads the
    # class's p_* rules, tokens and precedence.
    grammar = parser_class.__new__(parser_class)
    yacc.yacc(
        module=grammar,
        start="jsonpath",  # jsonpath-ng's start symbol, part of the grammar signature
        tabmodule=name,
        outputdir=str(directory),
        write_tables=True,
        debug=False,
        errorlog=yacc.NullLogger(),
    )
    spec = importlib.util.spec_from_file_location(name, directory / f"{name.rsplit('.', 1)[1]}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_parse_tables() -> list[str]:
    """Build and register the parse tables of jsonpath-ng's parsers when it ships none.

    Returns the names of the modules registered (none with jsonpath-ng 1.9 and later, or
    without jsonpath-ng).
    """
    if importlib.util.find_spec("jsonpath_ng") is None or ships_parse_tables():
        return []
    installed = []
    with tempfile.TemporaryDirectory(prefix="redis-pydantic-jsonpath-") as directory:
        for parser_class in _parser_classes():
            name = table_module_name(parser_class)
            if name not in sys.modules:
                # A directory per parser: both files have the same name.
                own = Path(directory, parser_class.__module__)
                own.mkdir()
                sys.modules[name] = _build_table_module(parser_class, name, own)
                installed.append(name)
    INSTALLED.extend(installed)
    return installed
