"""A module as a JSON document (the `document` of a stored version, and what GetModule answers
for display) and back: the domain's Module, field for field, texts as {"en": ..., "fr": ...}
and each block with its `kind`."""

from __future__ import annotations

from typing import Any

from ..domain.modules import (
    Block,
    Lesson,
    Module,
    QuizBlock,
    ReflectionBlock,
    Text,
    TextBlock,
    VideoBlock,
)


def _text(t: Text) -> dict[str, str]:
    return {"en": t.en, "fr": t.fr}


def _text_of(data: dict[str, str]) -> Text:
    return Text(en=data["en"], fr=data["fr"])


def _block(b: Block) -> dict[str, Any]:
    if isinstance(b, TextBlock):
        return {"kind": b.kind, "markdown": _text(b.markdown)}
    if isinstance(b, VideoBlock):
        return {"kind": b.kind, "url": _text(b.url), "title": _text(b.title)}
    if isinstance(b, ReflectionBlock):
        return {"kind": b.kind, "prompt": _text(b.prompt)}
    return {"kind": b.kind, "instrument": b.instrument}


def _block_of(data: dict[str, Any]) -> Block:
    kind = data["kind"]
    if kind == TextBlock.kind:
        return TextBlock(_text_of(data["markdown"]))
    if kind == VideoBlock.kind:
        return VideoBlock(url=_text_of(data["url"]), title=_text_of(data["title"]))
    if kind == ReflectionBlock.kind:
        return ReflectionBlock(_text_of(data["prompt"]))
    if kind == QuizBlock.kind:
        return QuizBlock(data["instrument"])
    raise ValueError(f"unknown block kind {kind!r}")


def document_of(module: Module) -> dict[str, Any]:
    return {
        "slug": module.slug,
        "version": module.version,
        "title": _text(module.title),
        "summary": _text(module.summary),
        "minutes": module.minutes,
        "lessons": [
            {
                "key": lesson.key,
                "title": _text(lesson.title),
                "blocks": [_block(b) for b in lesson.blocks],
            }
            for lesson in module.lessons
        ],
    }


def module_of(document: dict[str, Any]) -> Module:
    """The Module a stored document holds (it was checked when stored)."""
    return Module(
        slug=document["slug"],
        version=document["version"],
        title=_text_of(document["title"]),
        summary=_text_of(document["summary"]),
        minutes=document["minutes"],
        lessons=tuple(
            Lesson(
                key=lesson["key"],
                title=_text_of(lesson["title"]),
                blocks=tuple(_block_of(b) for b in lesson["blocks"]),
            )
            for lesson in document["lessons"]
        ),
    )
