"""What one ListNotes page of hostile notes costs in CPU: `python -m bench.notes_render`.

A page of PAGE notes, each the worst body found (`![` x 10,000, the domain's 20,000-character
limit). Before 0010 every read rendered each body; now a read opens the sealed body with its
HTML (rendered once, at write time), and rendering itself is linear. Prints seconds per page
for: rendering each body (what a read did), and opening each sealed note (what a read does).
No database or broker: the same crypto and Markdown code the service runs.
"""

from __future__ import annotations

import json
import time

from services.kernel.crypto import SecretKey
from services.kernel.markdown import render
from services.spaces.storage.notes import note_context

PAGE = 200
BODY = "![" * 10_000


def main() -> None:
    key = SecretKey.generate()
    started = time.process_time()
    html = render(BODY)
    one_render = time.process_time() - started
    sealed = [
        key.seal_text(
            json.dumps({"body": BODY, "links": [], "html": html}),
            note_context(f"not_{i:04x}", "spc_1", "shared", "per_1"),
        )
        for i in range(PAGE)
    ]
    started = time.process_time()
    for i, value in enumerate(sealed):
        json.loads(key.open_text(value, note_context(f"not_{i:04x}", "spc_1", "shared", "per_1")))
    opening = time.process_time() - started
    print(f"render one hostile body: {one_render:.3f} s CPU")
    print(f"a page of {PAGE} rendered on read: {one_render * PAGE:.1f} s CPU (estimated)")
    print(f"a page of {PAGE} opened (HTML sealed at write): {opening:.3f} s CPU")


if __name__ == "__main__":
    main()
