"""Debian's chromium driven by Playwright, for the web app's browser tests: screenshots kept as
test artefacts, the accessibility audit (axe-core, vendored under tests/e2e/vendor/), and a
watch on every request a page makes (none may leave the web app's origin)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Request

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
# Screenshots of each journey, desktop and phone widths (README, "Web app").
SCREENSHOTS = ROOT / "var" / "artefacts" / "screenshots"
AXE = Path(__file__).resolve().parents[1] / "e2e" / "vendor" / "axe-core-4.14.1.min.js"
WIDTHS = {"desktop": 1280, "phone": 360}


@contextmanager
def browsing(
    browser: Browser, origin: str, *, width: int = 1280, **options: Any
) -> Iterator[tuple[BrowserContext, Page, list[str]]]:
    """A fresh browser profile; the third value lists every request that left `origin`."""
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale=options.pop("locale", "en-GB"), **options
    )
    elsewhere: list[str] = []

    def watch(request: Request) -> None:
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != origin and parts.scheme not in ("data", "about"):
            elsewhere.append(request.url)

    context.on("request", watch)
    try:
        yield context, context.new_page(), elsewhere
    finally:
        context.close()


def screenshots(page: Page, name: str) -> list[Path]:
    """The page at desktop and phone widths, full length; the viewport is set back after."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size or {"width": 1280, "height": 800}
    kept = []
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 800})
        path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]', '-', name)}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        kept.append(path)
        # Nothing sticks out sideways at this width (responsive down to 360 px).
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, label)
    page.set_viewport_size(before)
    return kept


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is."""
    page.evaluate(AXE.read_text() + "\n;undefined")  # not a <script>: the CSP stays as it is
    result = page.evaluate("async () => JSON.stringify(await axe.run(document))")
    violations = json.loads(result)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
