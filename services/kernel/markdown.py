"""Markdown people write, rendered to HTML that is safe to show (notes, and later feedback).

Two pinned libraries, each made for its half: markdown-it-py renders CommonMark with raw HTML
off (what looks like a tag is shown as text), then nh3 (the Rust `ammonia` sanitiser) keeps only
an allow-list of tags and attributes, links only to http, https and mailto, each with
`rel="noopener nofollow"`. The sanitiser runs on every rendering, so a Markdown trick the first
half lets through still meets the allow-list. `tests/unit/test_markdown.py` holds the attack
vectors.
"""

from __future__ import annotations

import functools

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


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render(markdown: str) -> str:
    """Safe HTML for `markdown`."""
    raw = _parser().render(markdown)
    return nh3.clean(
        raw,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener nofollow",
        strip_comments=True,
    )
