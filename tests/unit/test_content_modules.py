"""Content's e-learning modules (services/content/domain/modules.py): what a whole module is, each
problem named by its field, versions that never rewrite the past, and the modules shipped with
ecoach (services/content/modules/), each read from its folder in both languages."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from services.assessment.catalogue import catalogue
from services.content.domain.modules import (
    MAX_BLOCKS,
    MAX_LESSONS,
    MAX_MARKDOWN,
    QuizBlock,
    ReflectionBlock,
    Text,
    TextBlock,
    VideoBlock,
    check_successor,
)
from services.content.domain.modules import Lesson as Lesson_
from services.content.domain.modules import Module as Module_
from services.content.modules import shipped, shipped_module
from services.kernel.errors import InvalidArgument, NotFound


def text(words: str) -> Text:
    return Text(en=words, fr=f"{words} (fr)")


def both(words: str) -> Text:
    return Text(en=words, fr=words)


def lesson(key: str = "first", *blocks: object) -> Lesson_:
    return Lesson_(
        key=key,
        title=text(f"Lesson {key}"),
        blocks=tuple(blocks) or (TextBlock(text("Some *Markdown*.")),),  # type: ignore[arg-type]
    )


def module(*lessons: Lesson_, **changes: object) -> Module_:
    made = Module_(
        slug="giving-feedback",
        version=1,
        title=text("Giving feedback"),
        summary=text("A short module."),
        minutes=20,
        lessons=lessons or (lesson("first"), lesson("second")),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def problems_of(candidate: Module_) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        candidate.check()
    return {f.field: f.description for f in caught.value.fields}


def test_a_whole_module_checks_and_lists_its_lessons_and_instruments() -> None:
    whole = module(
        lesson(
            "why",
            TextBlock(text("Why feedback matters.")),
            VideoBlock(url=both("https://www.ted.com/talks/x"), title=text("A talk")),
            ReflectionBlock(text("What did you notice?")),
            QuizBlock("confidence"),
        ),
        lesson("how", TextBlock(text("How.")), QuizBlock("ins_0a1b"), QuizBlock("confidence")),
    ).check()
    assert whole.lesson_keys == ("why", "how")
    assert whole.instruments == ("confidence", "ins_0a1b")
    assert whole.lesson("how").quizzes == ("ins_0a1b", "confidence")
    assert whole.key == ("giving-feedback", 1)


def test_every_bad_field_of_the_module_is_named_at_once() -> None:
    found = problems_of(
        module(
            slug="Giving Feedback",
            version=0,
            title=Text(en="Title", fr=" "),
            summary=Text(en="", fr="Résumé"),
            minutes=0,
        )
    )
    assert set(found) == {"slug", "version", "title", "summary", "minutes"}
    assert found["title"] == "needs French and English text"
    assert found["minutes"] == "between 1 and 600"


@pytest.mark.parametrize(
    ("lessons", "field", "why"),
    [
        ((), "lessons", "must not be empty"),
        (
            tuple(lesson(f"l{i}") for i in range(MAX_LESSONS + 1)),
            "lessons",
            f"at most {MAX_LESSONS}",
        ),
        ((lesson("same"), lesson("same")), "lessons[1].key", "each id once"),
        ((lesson("Not_A_Key"),), "lessons[0].key", "lowercase letters"),
        (
            (replace(lesson(), blocks=()),),
            "lessons[0].blocks",
            "must not be empty",
        ),
        (
            (lesson("many", *[QuizBlock("confidence")] * (MAX_BLOCKS + 1)),),
            "lessons[0].blocks",
            f"at most {MAX_BLOCKS}",
        ),
        (
            (replace(lesson(), title=Text(en="Two\nlines", fr="Deux lignes")),),
            "lessons[0].title.en",
            "on one line",
        ),
    ],
)
def test_lessons_are_named_by_their_place(
    lessons: tuple[Lesson_, ...], field: str, why: str
) -> None:
    found = problems_of(replace(module(), lessons=lessons))
    assert why in found[field]


@pytest.mark.parametrize(
    ("block", "field", "why"),
    [
        (TextBlock(Text(en="Text", fr="")), "markdown", "needs French and English text"),
        (TextBlock(Text(en="#", fr="Titre")), "markdown.en", "shows nothing once rendered"),
        (
            TextBlock(Text(en="Text", fr="[lien](/relative)")),
            "markdown.fr",
            "an http, https or mailto address",
        ),
        (
            TextBlock(Text(en="x" * (MAX_MARKDOWN + 1), fr="Texte")),
            "markdown.en",
            f"at most {MAX_MARKDOWN} characters",
        ),
        (
            TextBlock(Text(en="Run:\n\n```python\nprint(1)\n```", fr="Texte")),
            "markdown.en",
            "a code sample takes a fence without a word",
        ),
        (
            TextBlock(Text(en="Text", fr="Texte\n\n~~~\ncode")),
            "markdown.fr",
            "this block is never closed",
        ),
        (
            VideoBlock(
                url=Text(en="http://example.com/v", fr="https://example.com/v"), title=text("V")
            ),
            "url.en",
            "an https address",
        ),
        (
            VideoBlock(
                url=Text(en="https://example.com/v", fr="javascript:alert(1)"), title=text("V")
            ),
            "url.fr",
            "an https address",
        ),
        (
            VideoBlock(url=both("https://example.com/v"), title=Text(en="V", fr="")),
            "title",
            "needs French and English text",
        ),
        (ReflectionBlock(Text(en="", fr="Question ?")), "prompt", "needs French and English"),
        (QuizBlock("Confidence!"), "instrument", "an instrument's slug"),
        ("not a block", "", "one of text, video, reflection, quiz"),
    ],
)
def test_each_block_problem_names_the_block_and_its_language(
    block: object, field: str, why: str
) -> None:
    found = problems_of(module(lesson("first", QuizBlock("confidence"), block)))
    name = "lessons[0].blocks[1]" + (f".{field}" if field else "")
    assert name in found, found
    assert why in found[name]


def test_markdown_with_an_absolute_link_is_fine() -> None:
    block = TextBlock(Text(en="[a talk](https://www.ted.com)", fr="[écrire](mailto:a@b.fr)"))
    module(lesson("first", block)).check()


def test_a_code_sample_is_a_closed_fence_without_a_word() -> None:
    block = TextBlock(Text(en="Run:\n\n```\nmake run\n```", fr="Lancez :\n\n~~~~\nmake run\n~~~~"))
    module(lesson("first", block)).check()


def test_two_text_blocks_in_a_row_are_one_block() -> None:
    found = problems_of(module(lesson("first", TextBlock(text("One.")), TextBlock(text("Two.")))))
    assert found == {"lessons[0].blocks[1]": "follows another text block: join them"}


def test_a_new_version_leaves_the_one_before_as_it_was() -> None:
    first = module().check()
    second = first.next_version(minutes=25)
    assert (second.version, second.minutes) == (2, 25)
    assert (first.version, first.minutes) == (1, 20)
    with pytest.raises(FrozenInstanceError):
        first.version = 3  # type: ignore[misc]


def test_a_new_version_is_checked() -> None:
    with pytest.raises(InvalidArgument) as caught:
        module().check().next_version(lessons=())
    assert [f.field for f in caught.value.fields] == ["lessons"]


def test_only_the_next_version_is_new_and_the_same_version_again_changes_nothing() -> None:
    first = module().check()
    assert check_successor(None, first) is True
    assert check_successor(first, first) is False
    assert check_successor(first, first.next_version()) is True


@pytest.mark.parametrize(
    ("published", "candidate", "field", "why"),
    [
        (None, 2, "version", "must be 1, the next version"),
        (1, 1, "version", "must be 2, the next version"),  # version 1 again, but changed
        (2, 4, "version", "must be 3, the next version"),
        (2, 1, "version", "must be 3, the next version"),
    ],
)
def test_a_published_version_is_never_rewritten_nor_skipped(
    published: int | None, candidate: int, field: str, why: str
) -> None:
    before = None if published is None else module(version=published).check()
    after = module(version=candidate, minutes=45).check()
    with pytest.raises(InvalidArgument) as caught:
        check_successor(before, after)
    assert {f.field: f.description for f in caught.value.fields} == {field: why}


def test_a_module_cannot_change_its_slug() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_successor(module().check(), module(slug="other", version=2).check())
    assert caught.value.fields[0].field == "slug"


# ---------------------------------------------------------------- the shipped modules


def test_every_shipped_module_reads_from_its_folder() -> None:
    modules = shipped()
    assert [m.slug for m in modules] == [
        "difficult-conversation",
        "giving-feedback",
        "managing-priorities",
    ]
    for shipped_one in modules:
        assert shipped_one.check() is shipped_one
        assert 3 <= len(shipped_one.lessons) <= 5


def test_the_shipped_modules_use_every_kind_of_block_and_real_instruments() -> None:
    slugs = {i.slug for i in catalogue()}
    for shipped_one in shipped():
        kinds = {b.kind for lesson_ in shipped_one.lessons for b in lesson_.blocks}
        assert kinds == {"text", "video", "reflection", "quiz"}, shipped_one.slug
        assert set(shipped_one.instruments) <= slugs
        for lesson_ in shipped_one.lessons:
            for block in lesson_.blocks:
                if isinstance(block, VideoBlock):
                    assert block.url.en.startswith("https://")
                    assert block.title.fr != block.title.en  # written in each language


def test_a_shipped_module_is_found_by_its_slug_only() -> None:
    assert shipped_module("giving-feedback").title.fr == "Donner un feedback qui aide"
    with pytest.raises(NotFound):
        shipped_module("nope")
