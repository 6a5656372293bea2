"""The module folder format (docs/content/module-format.md): a module is a folder of Markdown
files with YAML front matter, written in any editor and kept in git, to the domain's Module and
back.

    module.md                     front matter: format, slug, version, minutes, title, summary
    lessons/01-why.en.md          one file per lesson and language: front matter `title`,
    lessons/01-why.fr.md          then Markdown; a fence named video, reflection or quiz is a
    lessons/02-how.en.md          block (YAML inside), the Markdown between fences is text

Reading collects every problem before answering, each named `file:line` (and the key at fault
when there is one), and raises them together as one InvalidArgument: a malformed folder changes
nothing. The front matter and the blocks' YAML are checked by the pydantic models below, whose
JSON schemas are published in docs/schemas/ (`schema_texts`); YAML is read with PyYAML's safe
loader, keeping the marks that give line numbers, and refused when it uses aliases (a few lines
of them can stand for billions of nodes). Sizes are bounded (files, bytes, lessons, blocks), and
a name leaving the folder or a symbolic link is refused.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.contracts.base import Contract
from services.kernel.errors import FieldViolation, InvalidArgument, Problem
from services.kernel.i18n import N_
from services.kernel.validation import INCOMING, MULTI_LINE, validation_error

from ..domain.modules import (
    LANGUAGES,
    MAX_BLOCKS,
    MAX_LESSONS,
    MAX_MINUTES,
    MAX_URL,
    QUIZ,
    REFLECTION,
    TEXT,
    VIDEO,
    Block,
    Lesson,
    Module,
    QuizBlock,
    ReflectionBlock,
    Text,
    TextBlock,
    VideoBlock,
)

FORMAT = "ecoach.module/1"
_Model = TypeVar("_Model", bound=BaseModel)
MODULE_FILE = "module.md"
LESSONS = "lessons"
FENCED_KINDS = (VIDEO, REFLECTION, QUIZ)
MAX_FILES = 1 + 2 * MAX_LESSONS
MAX_FILE_BYTES = 64 * 1024
MAX_TOTAL_BYTES = 1024 * 1024

_LESSON_FILE = re.compile(
    r"^lessons/(?P<number>[0-9]{1,3})-(?P<key>[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)"
    r"\.(?P<language>en|fr)\.md$"
)
_CLOSING_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")
_FRONT_MATTER_END = ("---", "...")
# The YAML loader, in C when PyYAML was built with libyaml.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ---------------------------------------------------------------- the front matter's models

Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
Line = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Paragraph = Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]
HttpsUrl = Annotated[
    str, StringConstraints(min_length=9, max_length=MAX_URL, pattern=r"^https://[^\s]+$")
]
InstrumentRef = Annotated[
    str,
    StringConstraints(
        min_length=2, max_length=64, pattern=r"^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?|ins_[0-9a-f]+)$"
    ),
]


class _Part(Contract):
    model_config = ConfigDict(strict=True)


class LineText(_Part):
    """A short text (a title) in English and French."""

    en: Line
    fr: Line


class ParagraphText(_Part):
    """A longer text (a summary) in English and French."""

    en: Paragraph
    fr: Paragraph


class ModuleFrontMatter(_Part):
    """module.md's front matter: what the module is. A changed module is published with the
    next version; a published version never changes."""

    model_config = ConfigDict(title="ecoach module")

    format: Literal["ecoach.module/1"] = "ecoach.module/1"  # FORMAT
    slug: Slug
    version: int = Field(ge=1)
    minutes: int = Field(ge=1, le=MAX_MINUTES, description="About how long it takes.")
    title: LineText
    summary: ParagraphText


class LessonFrontMatter(_Part):
    """A lesson file's front matter (lessons/NN-key.LANGUAGE.md): its title in that language."""

    model_config = ConfigDict(title="ecoach module lesson")

    title: Line


class VideoFence(_Part):
    """```video: a video played only when the coachee asks (click to load)."""

    model_config = ConfigDict(title="video")

    url: HttpsUrl
    title: Line


class ReflectionFence(_Part):
    """```reflection: a question whose answer the coachee may keep in their journal."""

    model_config = ConfigDict(title="reflection")

    prompt: Paragraph


class QuizFence(_Part):
    """```quiz: an assessment instrument, by its slug or id (the same in both languages)."""

    model_config = ConfigDict(title="quiz")

    instrument: InstrumentRef


FENCES: dict[str, type[_Part]] = {VIDEO: VideoFence, REFLECTION: ReflectionFence, QUIZ: QuizFence}
_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


def schema_texts() -> dict[str, str]:
    """The published schemas, file name -> text, as docs/schemas/ holds them."""
    blocks = {
        "$schema": _SCHEMA,
        "title": "ecoach module blocks",
        "description": "The YAML inside a lesson's fenced blocks, by the fence's word.",
        "$defs": {kind: model.model_json_schema() for kind, model in FENCES.items()},
    }
    schemas = {
        "module.schema.json": {"$schema": _SCHEMA, **ModuleFrontMatter.model_json_schema()},
        "module-lesson.schema.json": {"$schema": _SCHEMA, **LessonFrontMatter.model_json_schema()},
        "module-blocks.schema.json": blocks,
    }
    return {
        name: json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for name, schema in schemas.items()
    }


# ---------------------------------------------------------------- reading


def read_folder(folder: Path) -> Module:
    """The checked Module a folder holds; otherwise InvalidArgument listing every problem."""
    problems = _Problems()
    files: dict[str, bytes] = {}
    if folder.is_symlink() or not folder.is_dir():
        problems.add(".", 0, N_("must be a folder, not a symbolic link"))
        problems.raise_any()
    for name, path in _walk(folder, problems):
        if len(files) >= MAX_FILES:
            problems.add(".", 0, Problem("holds more than %(n)s files", n=MAX_FILES))
            problems.raise_any()
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.add(name, 0, Problem("is larger than %(kib)s KiB; split the file", kib=64))
            continue
        files[name] = path.read_bytes()
    return _Reader(problems).read(files)


def read_files(files: Mapping[str, bytes]) -> Module:
    """The checked Module of files named by their path in the folder (an upload, an archive);
    otherwise InvalidArgument listing every problem."""
    problems = _Problems()
    kept: dict[str, bytes] = {}
    for name, data in files.items():
        if not _inside(name):
            problems.add(_printable(name), 0, N_("is outside the module's folder"))
        elif not any(part.startswith(".") for part in name.split("/")):  # .git, .DS_Store
            kept[name] = data
        if len(kept) > MAX_FILES or len(problems.found) > MAX_FILES:
            problems.found.clear()
            problems.add(".", 0, Problem("holds more than %(n)s files", n=MAX_FILES))
            problems.raise_any()
    return _Reader(problems).read(kept)


def _walk(folder: Path, problems: _Problems) -> Iterator[tuple[str, Path]]:
    """The files under `folder`, by name, sorted; symbolic links and hidden entries are not
    followed (a link is a problem: it could lead out of the folder)."""
    for directory, dirs, names in os.walk(folder, followlinks=False):
        base = Path(directory)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                rel = _printable((base / name).relative_to(folder).as_posix())
                problems.add(rel, 0, N_("is a symbolic link; copy the files instead"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (base / d).is_symlink())
        for name in sorted(names):
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith("."):
                continue
            if path.is_symlink():
                problems.add(_printable(rel), 0, N_("is a symbolic link; copy the files instead"))
            elif path.is_file():
                yield rel, path


def _inside(name: str) -> bool:
    parts = name.split("/")
    return (
        bool(name)
        and "\\" not in name
        and "\0" not in name
        and not name.startswith("/")
        and ":" not in parts[0]
        and all(part not in ("", ".", "..") for part in parts)
    )


def _printable(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii")[:200]


@dataclass
class _Problems:
    found: list[tuple[str, int, FieldViolation]] = field(default_factory=list)

    def add(self, file: str, line: int, why: str, key: str = "") -> None:
        place = f"{file}:{line}" if line else file
        self.found.append((file, line, FieldViolation.of(f"{place} {key}".strip(), why)))

    def violation(self, file: str, line: int, violation: FieldViolation, key: str) -> None:
        place = f"{file}:{line}" if line else file
        named = FieldViolation(
            f"{place} {key}".strip(), violation.description, violation.template, violation.values
        )
        self.found.append((file, line, named))

    def raise_any(self) -> None:
        if not self.found:
            return
        ordered = [v for _f, _l, v in sorted(self.found, key=lambda p: (p[0], p[1]))]
        # The message goes to logs: it counts the problems and names no file (authors name
        # them); the fields say where each one is.
        raise InvalidArgument(
            f"The module folder has {len(ordered)} problem(s).",
            fields=ordered,
        )


@dataclass
class _Fenced:
    kind: str
    line: int
    data: dict[str, Any]
    lines: dict[str, int]  # the line of each key


@dataclass
class _Chunk:
    """A text chunk or a fenced block of one lesson file."""

    kind: str
    line: int
    markdown: str = ""
    fenced: _Fenced | None = None


@dataclass
class _LessonFile:
    name: str
    title: str
    title_line: int
    chunks: list[_Chunk]


# Where a domain field came from: field name -> language -> (file, line).
Origins = dict[str, dict[str, tuple[str, int]]]


class _Reader:
    def __init__(self, problems: _Problems) -> None:
        self.problems = problems
        self.origins: Origins = {}

    def read(self, files: Mapping[str, bytes]) -> Module:
        texts = self._decode(files)
        front = self._module_file(texts.pop(MODULE_FILE, None))
        lessons = self._lessons(texts)
        self.problems.raise_any()
        assert front is not None  # no problem means module.md was read
        module = Module(
            slug=front.slug,
            version=front.version,
            title=Text(en=front.title.en, fr=front.title.fr),
            summary=Text(en=front.summary.en, fr=front.summary.fr),
            minutes=front.minutes,
            lessons=tuple(lessons),
        )
        try:
            return module.check()
        except InvalidArgument as exc:
            for violation in exc.fields:
                file, line = self._origin(violation.field)
                self.problems.violation(file, line, violation, violation.field)
        self.problems.raise_any()
        raise AssertionError("unreachable")  # pragma: no cover

    def _decode(self, files: Mapping[str, bytes]) -> dict[str, str]:
        texts: dict[str, str] = {}
        if sum(len(data) for data in files.values()) > MAX_TOTAL_BYTES:
            self.problems.add(".", 0, Problem("holds more than %(kib)s KiB", kib=1024))
            self.problems.raise_any()
        for name, data in sorted(files.items()):
            if name != MODULE_FILE and not _LESSON_FILE.match(name):
                self.problems.add(
                    _printable(name),
                    0,
                    N_("is not module.md nor lessons/NN-key.en.md or NN-key.fr.md"),
                )
            elif len(data) > MAX_FILE_BYTES:
                self.problems.add(
                    name, 0, Problem("is larger than %(kib)s KiB; split the file", kib=64)
                )
            else:
                try:
                    texts[name] = data.decode("utf-8").removeprefix("\ufeff")
                except UnicodeDecodeError as exc:
                    self.problems.add(
                        name, 0, Problem("is not UTF-8 (byte %(byte)s)", byte=exc.start)
                    )
        return texts

    # ------------------------------------------------------------ module.md

    def _module_file(self, text: str | None) -> ModuleFrontMatter | None:
        if text is None:
            self.problems.add(MODULE_FILE, 0, N_("is required"))
            return None
        split = self._front_matter(MODULE_FILE, text)
        if split is None:
            return None
        node, data, _body, _start = split
        front = self._validate(ModuleFrontMatter, data, node, MODULE_FILE)
        lines = _key_lines(node)
        for name in ("slug", "version", "minutes", "title", "summary"):
            for language in LANGUAGES:
                line = lines.get(f"{name}.{language}", lines.get(name, 1))
                self.origins.setdefault(name, {})[language] = (MODULE_FILE, line)
        self.origins["lessons"] = {lang: (MODULE_FILE, 1) for lang in LANGUAGES}
        return front

    def _front_matter(self, name: str, text: str) -> tuple[Any, Any, list[str], int] | None:
        """(YAML node, data, body lines, body's first line number) of a file that starts with a
        front matter between two lines of ---."""
        lines = text.splitlines()
        if not lines or lines[0].rstrip() != "---":
            self.problems.add(name, 1, N_("must start with a front matter between two --- lines"))
            return None
        end = next((i for i, x in enumerate(lines[1:], 1) if x.rstrip() in _FRONT_MATTER_END), 0)
        if not end:
            self.problems.add(name, 1, N_("the front matter has no closing --- line"))
            return None
        parsed = self._yaml(name, "\n".join(lines[1:end]), 2)
        if parsed is None:
            return None
        node, data = parsed
        return node, data, lines[end + 1 :], end + 2

    def _yaml(self, name: str, source: str, first_line: int) -> tuple[Any, Any] | None:
        """(node, data) of YAML text whose first line is the file's `first_line`."""
        try:
            for event in yaml.parse(source, Loader=_LOADER):
                if isinstance(event, yaml.AliasEvent):
                    line = first_line + event.start_mark.line
                    self.problems.add(name, line, N_("YAML aliases (*name) are not allowed here"))
                    return None
            loader = _LOADER(source)
            try:
                node = loader.get_single_node()
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = first_line + (mark.line if mark is not None else 0)
            self.problems.add(name, line, N_("is not valid YAML"))
            return None
        if not isinstance(data, dict):
            self.problems.add(name, first_line, N_("must be a set of names and values"))
            return None
        _shift(node, first_line)
        return node, data

    def _validate(self, model: type[_Model], data: Any, node: Any, name: str) -> _Model | None:
        try:
            return model.model_validate(data, context={INCOMING: True})
        except ValidationError as exc:
            for error, violation in zip(exc.errors(), validation_error(exc).fields, strict=True):
                line = _line_of(node, error["loc"])
                self.problems.violation(name, line, violation, violation.field)
            return None

    # ------------------------------------------------------------ lessons

    def _lessons(self, texts: dict[str, str]) -> list[Lesson]:
        grouped: dict[tuple[int, str], dict[str, str]] = {}
        numbers: dict[int, str] = {}
        keys: dict[str, int] = {}
        for name in sorted(texts):
            match = _LESSON_FILE.match(name)
            assert match is not None  # _decode kept only lesson files
            number, key = int(match["number"]), match["key"]
            if numbers.setdefault(number, key) != key:
                self.problems.add(
                    name,
                    0,
                    Problem("%(number)s is the number of another lesson", number=match["number"]),
                )
                continue
            if keys.setdefault(key, number) != number:
                self.problems.add(name, 0, N_("another lesson has this key"))
                continue
            grouped.setdefault((number, key), {})[match["language"]] = name
        if not grouped:
            self.problems.add(LESSONS, 0, N_("must not be empty"))
        elif len(grouped) > MAX_LESSONS:
            self.problems.add(LESSONS, 0, Problem("at most %(n)s", n=MAX_LESSONS))
            return []
        lessons = []
        for index, ((_number, key), names) in enumerate(sorted(grouped.items())):
            lesson = self._lesson(index, key, names, texts)
            if lesson is not None:
                lessons.append(lesson)
        return lessons

    def _lesson(
        self, index: int, key: str, names: dict[str, str], texts: dict[str, str]
    ) -> Lesson | None:
        for language, other in (("en", "fr"), ("fr", "en")):
            if language in names and other not in names:
                twin = names[language].replace(f".{language}.md", f".{other}.md")
                self.problems.add(
                    names[language],
                    0,
                    Problem("needs its French twin, %(file)s", file=twin)
                    if other == "fr"
                    else Problem("needs its English twin, %(file)s", file=twin),
                )
                return None
        read = {lang: self._lesson_file(names[lang], texts[names[lang]]) for lang in LANGUAGES}
        en, fr = read["en"], read["fr"]
        if en is None or fr is None:
            return None
        name = f"lessons[{index}]"
        self.origins[name] = {lang: (names[lang], 1) for lang in LANGUAGES}
        self.origins[name + ".key"] = self.origins[name]
        self.origins[name + ".blocks"] = self.origins[name]
        self.origins[name + ".title"] = {
            "en": (en.name, en.title_line),
            "fr": (fr.name, fr.title_line),
        }
        if not self._same_shape(en, fr):
            return None
        blocks = []
        for position, (a, b) in enumerate(zip(en.chunks, fr.chunks, strict=True)):
            where = f"{name}.blocks[{position}]"
            self.origins[where] = {"en": (en.name, a.line), "fr": (fr.name, b.line)}
            for key_name in set(a.fenced.lines if a.fenced else ()) | set(
                b.fenced.lines if b.fenced else ()
            ):
                self.origins[f"{where}.{key_name}"] = {
                    "en": (en.name, a.fenced.lines.get(key_name, a.line) if a.fenced else a.line),
                    "fr": (fr.name, b.fenced.lines.get(key_name, b.line) if b.fenced else b.line),
                }
            blocks.append(_block(a, b))
        return Lesson(key=key, title=Text(en=en.title, fr=fr.title), blocks=tuple(blocks))

    def _same_shape(self, en: _LessonFile, fr: _LessonFile) -> bool:
        """The two languages hold the same blocks in the same order, and the same quizzes."""
        for position in range(max(len(en.chunks), len(fr.chunks))):
            a = en.chunks[position] if position < len(en.chunks) else None
            b = fr.chunks[position] if position < len(fr.chunks) else None
            if a is None or b is None:
                there, missing = (fr, en) if a is None else (en, fr)
                chunk = (b if a is None else a) or _Chunk("", 0)
                self.problems.add(
                    there.name,
                    chunk.line,
                    Problem(
                        "this %(kind)s block has no counterpart in %(file)s",
                        kind=chunk.kind,
                        file=missing.name,
                    ),
                )
                return False
            if a.kind != b.kind:
                self.problems.add(
                    fr.name,
                    b.line,
                    Problem(
                        "is a %(kind)s block where %(file)s:%(line)s has a %(other)s block",
                        kind=b.kind,
                        file=en.name,
                        line=a.line,
                        other=a.kind,
                    ),
                )
                return False
            if a.fenced and b.fenced and a.kind == QUIZ:
                if a.fenced.data["instrument"] != b.fenced.data["instrument"]:
                    self.problems.add(
                        fr.name,
                        b.fenced.lines.get("instrument", b.line),
                        Problem(
                            "must be the instrument of %(file)s:%(line)s",
                            file=en.name,
                            line=a.fenced.lines.get("instrument", a.line),
                        ),
                        "instrument",
                    )
                    return False
        return True

    def _lesson_file(self, name: str, text: str) -> _LessonFile | None:
        split = self._front_matter(name, text)
        if split is None:
            return None
        node, data, body, start = split
        front = self._validate(LessonFrontMatter, data, node, name)
        chunks = self._chunks(name, body, start)
        if front is None or chunks is None:
            return None
        if not chunks:
            self.problems.add(name, start, N_("the lesson has no content"))
            return None
        if len(chunks) > MAX_BLOCKS:
            self.problems.add(
                name, chunks[MAX_BLOCKS].line, Problem("at most %(n)s blocks", n=MAX_BLOCKS)
            )
            return None
        return _LessonFile(name, front.title, _key_lines(node).get("title", 2), chunks)

    def _chunks(self, name: str, body: list[str], start: int) -> list[_Chunk] | None:
        """The lesson's body as text chunks and fenced blocks, in order; None when a block is
        wrong (after saying why)."""
        chunks: list[_Chunk] = []
        wrong = False
        text_from = 0
        for token in _markdown().parse("\n".join(body)):
            if token.type != "fence" or not token.info.strip() or token.map is None:
                continue
            first, end = token.map
            line = start + first
            kind = token.info.strip()
            if token.level > 0:
                self.problems.add(
                    name, line, N_("a block starts on a line of its own, outside lists and quotes")
                )
                wrong = True
                continue
            if kind not in FENCED_KINDS:
                self.problems.add(
                    name,
                    line,
                    Problem(
                        'unknown block kind "%(kind)s": video, reflection or quiz (a code sample '
                        "takes a fence without a word)",
                        kind=kind[:40],
                    ),
                )
                wrong = True
                continue
            if end - first < 2 or not _CLOSING_FENCE.match(body[end - 1]):
                self.problems.add(name, line, N_("this block is never closed (```)"))
                wrong = True
                continue
            chunks.extend(_text_chunk(body, text_from, first, start))
            text_from = end
            fenced = self._fenced(name, kind, token.content, line)
            if fenced is None:
                wrong = True
            else:
                chunks.append(_Chunk(kind, line, fenced=fenced))
        chunks.extend(_text_chunk(body, text_from, len(body), start))
        return None if wrong else chunks

    def _fenced(self, name: str, kind: str, content: str, line: int) -> _Fenced | None:
        parsed = self._yaml(name, content, line + 1)
        if parsed is None:
            return None
        node, data = parsed
        model = self._validate(FENCES[kind], data, node, name)
        if model is None:
            return None
        return _Fenced(kind, line, model.model_dump(), _key_lines(node))

    def _origin(self, name: str) -> tuple[str, int]:
        """The file and line a domain field (`lessons[1].blocks[0].url.fr`) came from."""
        language = "en"
        for suffix in LANGUAGES:
            if name.endswith("." + suffix):
                language, name = suffix, name[: -len(suffix) - 1]
        while name:
            if name in self.origins:
                return self.origins[name][language]
            name = re.sub(r"(\.[^.\[]*|\[[0-9]+\])$", "", name)
        return MODULE_FILE, 1


def _text_chunk(body: list[str], first: int, end: int, start: int) -> list[_Chunk]:
    lines = body[first:end]
    while lines and not lines[0].strip():
        lines.pop(0)
        first += 1
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return []
    return [_Chunk(TEXT, start + first, markdown="\n".join(lines).rstrip())]


def _block(en: _Chunk, fr: _Chunk) -> Block:
    if en.kind == TEXT:
        return TextBlock(Text(en=en.markdown, fr=fr.markdown))
    assert en.fenced is not None and fr.fenced is not None
    a, b = en.fenced.data, fr.fenced.data
    if en.kind == VIDEO:
        return VideoBlock(
            url=Text(en=a["url"], fr=b["url"]), title=Text(en=a["title"], fr=b["title"])
        )
    if en.kind == REFLECTION:
        return ReflectionBlock(Text(en=a["prompt"], fr=b["prompt"]))
    return QuizBlock(a["instrument"])


@functools.cache
def _markdown() -> MarkdownIt:
    """A block-level parser: fences are all it looks for, so inline parsing (links, emphasis),
    the costly part on crafted text (services/kernel/markdown.py), is left out."""
    return MarkdownIt("commonmark", {"html": False}).disable("inline")


def _shift(node: Any, first_line: int) -> None:
    """Remember on the root node the file line of the YAML's first line."""
    node.ecoach_first_line = first_line


def _line_of(node: Any, loc: tuple[int | str, ...]) -> int:
    """The file line of the YAML node at `loc` (a pydantic error's path): the key's line in a
    mapping, the item's in a list, the closest existing parent's when it is missing."""
    first = int(getattr(node, "ecoach_first_line", 1))
    current = node
    line = current.start_mark.line
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            match = next(((k, v) for k, v in current.value if k.value == part), None)
            if match is None:
                break
            line, current = match[0].start_mark.line, match[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                break
            current = current.value[part]
            line = current.start_mark.line
        else:
            break
    return first + int(line)


def _key_lines(node: Any) -> dict[str, int]:
    """The file line of each key of a mapping, and of the keys of its mappings (`title.fr`)."""
    first = int(getattr(node, "ecoach_first_line", 1))
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        name = str(key.value)
        lines[name] = first + key.start_mark.line
        if isinstance(value, yaml.MappingNode):
            for inner, _ in value.value:
                lines[f"{name}.{inner.value}"] = first + inner.start_mark.line
    return lines


# ---------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Multi-line text as a literal block (|), as a person would write it."""


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data: dict[str, Any]) -> str:
    return str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100))


def write_files(module: Module) -> dict[str, str]:
    """The folder of a module, file name -> text (`read_files` reads it back equal)."""
    front = {
        "format": FORMAT,
        "slug": module.slug,
        "version": module.version,
        "minutes": module.minutes,
        "title": {"en": module.title.en, "fr": module.title.fr},
        "summary": {"en": module.summary.en, "fr": module.summary.fr},
    }
    files = {MODULE_FILE: f"---\n{_dump(front)}---\n"}
    width = max(2, len(str(len(module.lessons))))
    for number, lesson in enumerate(module.lessons, 1):
        for language in LANGUAGES:
            name = f"{LESSONS}/{number:0{width}d}-{lesson.key}.{language}.md"
            parts = [_written(block, language) for block in lesson.blocks]
            head = _dump({"title": lesson.title.of(language)})
            files[name] = f"---\n{head}---\n\n" + "\n\n".join(parts) + "\n"
    return files


def write_folder(module: Module, folder: Path) -> None:
    """Write a module's folder; `folder` must not exist yet (nothing is overwritten)."""
    folder.mkdir(parents=True)
    (folder / LESSONS).mkdir()
    for name, text in write_files(module).items():
        (folder / name).write_text(text, encoding="utf-8")


def _written(block: Block, language: str) -> str:
    if isinstance(block, TextBlock):
        return block.markdown.of(language)
    if isinstance(block, VideoBlock):
        data = {"url": block.url.of(language), "title": block.title.of(language)}
    elif isinstance(block, ReflectionBlock):
        data = {"prompt": block.prompt.of(language)}
    else:
        data = {"instrument": block.instrument}
    return f"```{block.kind}\n{_dump(data)}```"
