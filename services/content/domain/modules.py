"""An e-learning module, taken as a short e-coaching session: a title, a summary, an estimate of
the minutes it takes, and ordered lessons, each of ordered blocks. Plain Python, no
infrastructure.

A block is one of four kinds:

- `text`: Markdown, shown through the kernel's sanitiser (services/kernel/markdown.py);
- `video`: an https address and a title, shown as a click-to-load block: nothing is asked of a
  third party until the coachee chooses to play it (here it is only data);
- `reflection`: a prompt whose answer the coachee may save into their journal;
- `quiz`: an assessment instrument (its slug, or its id), taken through the assessment service.

A module is an immutable value identified by its slug and version: a change is a new Module with
version + 1 (`next_version`), so a coachee in progress keeps reading what they started. What a
person reads is in both languages of the platform (`Text`), written by authors, not in the
message catalogues.

`check()` says what is wrong with a module, naming each bad field by its place:
`lessons[1].blocks[2].url.fr`. The folder format (services/content/adapters/module_folder.py)
turns these names into file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from markdown_it import MarkdownIt

from services.kernel.errors import Problem, invalid
from services.kernel.i18n import N_
from services.kernel.markdown import render

TEXT = "text"
VIDEO = "video"
REFLECTION = "reflection"
QUIZ = "quiz"
BLOCK_KINDS = (TEXT, VIDEO, REFLECTION, QUIZ)
LANGUAGES = ("en", "fr")

MAX_LESSONS = 30
MAX_BLOCKS = 40
MAX_MARKDOWN = 20_000
MAX_LINE = 300
MAX_PARAGRAPH = 4000
MAX_URL = 2000
MAX_MINUTES = 600

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# An assessment instrument as its contract names it: a slug (the catalogue's) or an id.
_INSTRUMENT = re.compile(r"^([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?|ins_[0-9a-f]{1,60})$")
# An absolute https address with a host, and nothing a person could not type.
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\"'<>\\]*)?$")
# nh3 removes the address of a link that is not absolute and keeps the rest of the tag.
_LOST_LINK = re.compile(r"<a(?![^>]*\shref=)[^>]*>")
_CLOSING_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")
# Fences are blocks: inline parsing (links, emphasis) is not needed to find them.
_BLOCKS_ONLY = MarkdownIt("commonmark", {"html": False}).disable("inline")


@dataclass(frozen=True)
class Text:
    """A text a person reads, in both languages of the platform."""

    en: str
    fr: str

    def in_language(self, language: str) -> str:
        return self.fr if language.lower().startswith("fr") else self.en

    def of(self, language: str) -> str:
        return self.fr if language == "fr" else self.en

    @property
    def complete(self) -> bool:
        return bool(self.en.strip() and self.fr.strip())


@dataclass(frozen=True)
class TextBlock:
    """Markdown, in each language."""

    markdown: Text
    kind: ClassVar[str] = TEXT


@dataclass(frozen=True)
class VideoBlock:
    """A video to play on request: its https address and title in each language (a French
    reader may get a French video)."""

    url: Text
    title: Text
    kind: ClassVar[str] = VIDEO


@dataclass(frozen=True)
class ReflectionBlock:
    """A question for the coachee, whose answer they may keep in their journal."""

    prompt: Text
    kind: ClassVar[str] = REFLECTION


@dataclass(frozen=True)
class QuizBlock:
    """An assessment instrument (slug or id) the coachee takes through the assessment service."""

    instrument: str
    kind: ClassVar[str] = QUIZ


Block = TextBlock | VideoBlock | ReflectionBlock | QuizBlock


@dataclass(frozen=True)
class Lesson:
    """One step of a module. `key` names it across versions (progress refers to it)."""

    key: str
    title: Text
    blocks: tuple[Block, ...]

    @property
    def quizzes(self) -> tuple[str, ...]:
        return tuple(b.instrument for b in self.blocks if isinstance(b, QuizBlock))


@dataclass(frozen=True)
class Module:
    slug: str
    version: int
    title: Text
    summary: Text
    minutes: int
    lessons: tuple[Lesson, ...]

    @property
    def key(self) -> tuple[str, int]:
        return self.slug, self.version

    @property
    def lesson_keys(self) -> tuple[str, ...]:
        return tuple(lesson.key for lesson in self.lessons)

    def lesson(self, key: str) -> Lesson:
        return next(lesson for lesson in self.lessons if lesson.key == key)

    @property
    def instruments(self) -> tuple[str, ...]:
        """The assessment instruments its quizzes use, each once, in order of appearance."""
        return tuple(dict.fromkeys(i for lesson in self.lessons for i in lesson.quizzes))

    def next_version(self, **changes: Any) -> Module:
        """This module changed: a new value with the next version, checked. The version
        before stays as it was (a value), for those who are taking it."""
        return replace(self, version=self.version + 1, **changes).check()

    def check(self) -> Module:
        """This module when it is whole and consistent; otherwise InvalidArgument naming every
        bad field."""
        problems: dict[str, str] = {}
        if not _SLUG.match(self.slug):
            problems["slug"] = N_("lowercase letters, digits and inner hyphens, 2 to 64")
        if self.version < 1:
            problems["version"] = N_("must be 1 or more")
        _check_text(self.title, "title", MAX_LINE, problems)
        _check_text(self.summary, "summary", MAX_PARAGRAPH, problems)
        if not 1 <= self.minutes <= MAX_MINUTES:
            problems["minutes"] = Problem("between 1 and %(n)s", n=MAX_MINUTES)
        if not self.lessons:
            problems["lessons"] = N_("must not be empty")
        elif len(self.lessons) > MAX_LESSONS:
            problems["lessons"] = Problem("at most %(n)s", n=MAX_LESSONS)
        seen: set[str] = set()
        for index, lesson in enumerate(self.lessons):
            name = f"lessons[{index}]"
            if lesson.key in seen:
                problems[name + ".key"] = N_("each id once")
            elif not _SLUG.match(lesson.key):
                problems[name + ".key"] = N_("lowercase letters, digits and inner hyphens, 2 to 64")
            seen.add(lesson.key)
            _check_lesson(lesson, name, problems)
        if problems:
            raise invalid(**problems)
        return self


def check_successor(published: Module | None, candidate: Module) -> bool:
    """Whether `candidate` is new: True for the next version of what is published (or a first
    version), False for the published version itself, unchanged (importing it again changes
    nothing). Anything else would rewrite the past or skip a version: InvalidArgument."""
    if published is None:
        if candidate.version != 1:
            raise invalid(version=Problem("must be %(expected)s, the next version", expected=1))
        return True
    if candidate == published:
        return False
    if candidate.slug != published.slug:
        raise invalid(slug=Problem("%(name)s cannot be changed", name="slug"))
    if candidate.version != published.version + 1:
        raise invalid(
            version=Problem(
                "must be %(expected)s, the next version", expected=published.version + 1
            )
        )
    return True


def _check_lesson(lesson: Lesson, name: str, problems: dict[str, str]) -> None:
    _check_text(lesson.title, name + ".title", MAX_LINE, problems)
    if not lesson.blocks:
        problems[name + ".blocks"] = N_("must not be empty")
    elif len(lesson.blocks) > MAX_BLOCKS:
        problems[name + ".blocks"] = Problem("at most %(n)s", n=MAX_BLOCKS)
    for index, block in enumerate(lesson.blocks):
        where = f"{name}.blocks[{index}]"
        if isinstance(block, TextBlock):
            if index and isinstance(lesson.blocks[index - 1], TextBlock):
                problems[where] = N_("follows another text block: join them")
            _check_markdown(block.markdown, where + ".markdown", problems)
        elif isinstance(block, VideoBlock):
            _check_text(block.title, where + ".title", MAX_LINE, problems)
            for language in LANGUAGES:
                url = block.url.of(language)
                if len(url) > MAX_URL or not _HTTPS.match(url):
                    problems[f"{where}.url.{language}"] = N_("an https address")
        elif isinstance(block, ReflectionBlock):
            _check_text(block.prompt, where + ".prompt", MAX_PARAGRAPH, problems)
        elif isinstance(block, QuizBlock):
            if not _INSTRUMENT.match(block.instrument):
                problems[where + ".instrument"] = N_(
                    "an instrument's slug (such as confidence) or id (ins_...)"
                )
        else:  # a caller built something else: a bug, said as one
            problems[where] = Problem("one of %(kinds)s", kinds=", ".join(BLOCK_KINDS))


def _check_text(text: Text, name: str, limit: int, problems: dict[str, str]) -> None:
    if not text.complete:
        problems[name] = N_("needs French and English text")
        return
    for language in LANGUAGES:
        if len(text.of(language)) > limit:
            problems[f"{name}.{language}"] = Problem("at most %(n)s characters", n=limit)
        elif limit == MAX_LINE and "\n" in text.of(language):
            problems[f"{name}.{language}"] = Problem(
                "at most %(n)s characters, on one line", n=limit
            )


def _check_markdown(markdown: Text, name: str, problems: dict[str, str]) -> None:
    """Markdown in both languages that the sanitiser shows as written: not empty once
    rendered, and no link whose address it would drop; its code samples are closed fences
    without a word, since a fence with a word is a block of the module (video, quiz...)."""
    if not markdown.complete:
        problems[name] = N_("needs French and English text")
        return
    for language in LANGUAGES:
        source = markdown.of(language)
        if len(source) > MAX_MARKDOWN:
            problems[f"{name}.{language}"] = Problem("at most %(n)s characters", n=MAX_MARKDOWN)
            continue
        fence_problem = _fence_problem(source)
        html = render(source)
        if fence_problem:
            problems[f"{name}.{language}"] = fence_problem
        elif not re.sub(r"<[^>]*>", "", html).strip():
            problems[f"{name}.{language}"] = N_("shows nothing once rendered")
        elif _LOST_LINK.search(html):
            problems[f"{name}.{language}"] = N_("an http, https or mailto address")


def _fence_problem(markdown: str) -> str:
    """What is wrong with the fences of a text block, if anything."""
    lines = markdown.splitlines()
    for token in _BLOCKS_ONLY.parse(markdown):
        if token.type != "fence" or token.map is None:
            continue
        if token.info.strip():
            return N_("a code sample takes a fence without a word")
        first, end = token.map
        if end - first < 2 or not _CLOSING_FENCE.match(lines[end - 1]):
            return N_("this block is never closed (```)")
    return ""
