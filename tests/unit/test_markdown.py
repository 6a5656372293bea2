"""Rendering Markdown people write: what survives, and a list of attack vectors that must not."""

from __future__ import annotations

import sys
from html.parser import HTMLParser

import pytest

from services.kernel.markdown import TAGS, render


def test_plain_markdown_renders() -> None:
    html = render("# Goals\n\n**Speak up** in *meetings*\n\n- one\n- two\n\n`code`\n\n> quoted")
    for piece in (
        "<h1>Goals</h1>",
        "<strong>Speak up</strong>",
        "<em>meetings</em>",
        "<li>one</li>",
    ):
        assert piece in html
    assert "<code>code</code>" in html and "<blockquote>" in html


def test_links_keep_http_https_and_mailto_with_rel() -> None:
    html = render("[site](https://example.com/a?b=1) [mail](mailto:a@example.com) [x](http://x.io)")
    assert html.count('rel="noopener nofollow"') == 3
    assert 'href="https://example.com/a?b=1"' in html and 'href="mailto:a@example.com"' in html


ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://tracker.example/pixel.gif)",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="position:fixed">x</p>',
    "<style>body{display:none}</style>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "<object data=x></object><embed src=x>",
    '<form action="https://evil.example"><input name=p></form>',
    "<!-- <script>alert(1)</script> -->",
    "<meta http-equiv=refresh content=0;url=https://evil.example>",
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[x](file:///etc/passwd)",
    # protocol-relative: browsers read each as another site
    "[x](//evil.example)",
    "[x]( //evil.example/a)",
    "[x](\\\\evil.example)",
    "[x](/\\evil.example)",
    "[x](\\/evil.example)",
    "[x](https:/\\evil.example)",
    "[x]: //evil.example\n\n[x]",
    "<//evil.example>",
]


class Elements(HTMLParser):
    """The tags and attributes a browser would build from the HTML (text stays text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_attack_vector_survives(attack: str) -> None:
    for tag, attrs in elements(render(attack)):
        assert tag in TAGS, (attack, tag)
        for name, value in attrs.items():
            assert name in ("href", "title", "rel", "start"), (attack, name)
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), value
                assert not (value or "").startswith(("https:/\\", "http:/\\")), value
        if tag == "a":
            assert attrs.get("rel") == "noopener nofollow"


def test_relative_links_keep_their_text_but_lose_their_address() -> None:
    assert render("[home](/spaces) and [up](../x)") == (
        '<p><a rel="noopener nofollow">home</a> and <a rel="noopener nofollow">up</a></p>\n'
    )


def calls_to_render(text: str) -> int:
    """How many Python calls rendering `text` makes: a deterministic measure of the work,
    unlike a clock on a loaded machine."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        render(text)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize(("unit", "end"), [("![", ""), ("![", "]"), ("[", "")])
def test_unclosed_brackets_render_in_linear_time(unit: str, end: str) -> None:
    """Doubling the hostile input doubles the work (it was quadratic: 2 to 3 s for 10,000)."""
    small = calls_to_render(unit * 2_500 + end)
    large = calls_to_render(unit * 5_000 + end)
    assert large <= 2.5 * small, (small, large)
    hostile = unit * 10_000 + end
    html = render(hostile)
    assert html.startswith("<p>") and html.count("[") == hostile.count("[")


def test_brackets_still_make_links_in_a_note_full_of_them() -> None:
    html = render("[" * 200 + " [site](https://example.com) [ref] ")
    assert '<a href="https://example.com" rel="noopener nofollow">site</a>' in html
    assert "[ref]" in html
