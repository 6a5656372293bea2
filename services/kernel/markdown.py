"""Markdown people write, rendered to HTML that is safe to show (notes, and later feedback).

Two pinned libraries, each made for its half: markdown-it-py renders CommonMark with raw HTML
off (what looks like a tag is shown as text), then nh3 (the Rust `ammonia` sanitiser) keeps only
an allow-list of tags and attributes, links only to absolute http, https and mailto addresses,
each with `rel="noopener nofollow"`: a relative link loses its address, since one starting with
two slashes (or backslashes, which browsers read as slashes) leads to another site
(protocol-relative). The sanitiser runs
on every rendering, so a Markdown trick the first half lets through still meets the allow-list.
`tests/unit/test_markdown.py` holds the attack vectors.

markdown-it-py looks for the closing `]` of every `[` it meets, so thousands of unclosed `[`
(`![` x 10,000: 2-3 s of CPU for one 20,000-character note) cost quadratic time. Past
MAX_BRACKETS of them, each `[` with no `]` after it to close it, which can start no link, is
escaped first: rendering stays linear and the text reads the same (but in code, where the
escape shows).
"""

from __future__ import annotations

import functools
import re

import nh3
from markdown_it import MarkdownIt

TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
    }
)
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_ABSOLUTE = re.compile(r"^(https?://[^/\\]|mailto:)", re.IGNORECASE)
MAX_BRACKETS = 100


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _only_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href" and not _ABSOLUTE.match(value):
        return None
    return value


def _defuse_brackets(markdown: str) -> str:
    """`markdown` with each `[` that no later `]` can close escaped, when there are many."""
    if markdown.count("[") <= MAX_BRACKETS:
        return markdown
    out: list[str] = []
    closers = 0
    for char in reversed(markdown):  # right to left: a `[` pairs with a `]` seen after it
        if char == "]":
            closers += 1
        elif char == "[":
            if closers:
                closers -= 1
            else:
                char = "\\["
        out.append(char)
    return "".join(reversed(out))


def render(markdown: str) -> str:
    """Safe HTML for `markdown`."""
    raw = _parser().render(_defuse_brackets(markdown))
    return nh3.clean(
        raw,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=_only_absolute_links,
        link_rel="noopener nofollow",
        strip_comments=True,
    )
