"""pybabel's extraction method for the services' and the gateway's msgids (babel.cfg, README
"Translations"): it reads the Python source (never runs it) and yields

- `N_("…")` (a msgid marked where it is defined), `Problem("…", …)` (a field problem with values),
  `gettext(locale, "…")` and `ngettext(locale, "…", "…", n)` (services/kernel/i18n.py);
- the texts of `invalid(field="…")`, `invalid(**{name: "…"})` and `FieldViolation(field, "…")`
  (services/kernel/errors.py): a field problem's English text is its own msgid.

An f-string in one of those places cannot be translated: `fstrings` lists them, and
`tests/unit/test_i18n.py` fails on any (write `Problem("at most %(n)s", n=…)` instead).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

Found = tuple[int, str | None, str | tuple[str, str], list[str]]


def _texts(node: ast.AST) -> Iterator[ast.AST]:
    """The leaves a value may be: a literal, either branch of `a if c else b`, a call."""
    if isinstance(node, ast.IfExp):
        yield from _texts(node.body)
        yield from _texts(node.orelse)
    else:
        yield node


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):  # FieldViolation.of(field, why) is FieldViolation(…)
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        return owner if owner == "FieldViolation" and func.attr == "of" else func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _problem_texts(call: ast.Call) -> Iterator[ast.AST]:
    name = _name(call)
    if name == "invalid":
        for keyword in call.keywords:
            if keyword.arg is not None:
                yield from _texts(keyword.value)
            elif isinstance(keyword.value, ast.Dict):
                for value in keyword.value.values:
                    yield from _texts(value)
    elif name == "FieldViolation" and len(call.args) >= 2:
        yield from _texts(call.args[1])


def found_in(tree: ast.AST) -> Iterator[tuple[int, str, ast.AST]]:
    """(line, function, node) of every msgid argument: a literal, or something else to check."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in ("N_", "Problem") and node.args:
            yield node.lineno, name, node.args[0]
        elif name == "gettext" and len(node.args) >= 2:
            yield node.lineno, name, node.args[1]
        for text in _problem_texts(node):
            yield node.lineno, name, text


def msgids(source: str) -> Iterator[tuple[int, str, str]]:
    for line, name, node in found_in(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield line, name, node.value


def plurals(source: str) -> Iterator[tuple[int, str, str]]:
    """`ngettext(locale, singular, plural, n)`: (line, singular, plural)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node) == "ngettext" and len(node.args) >= 3:
            forms = node.args[1:3]
            if all(isinstance(f, ast.Constant) and isinstance(f.value, str) for f in forms):
                yield node.lineno, forms[0].value, forms[1].value  # type: ignore[attr-defined]


def fstrings(source: str) -> Iterator[int]:
    """The lines where an f-string stands where a msgid should."""
    for line, _name, node in found_in(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            yield line


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Found]:
    """Babel's extraction-method interface."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for line, _name, message in msgids(source):
        yield line, None, message, []  # no keyword: the message is whole (no plural, context)
    for line, singular, plural in plurals(source):
        yield line, "ngettext", (singular, plural), []
