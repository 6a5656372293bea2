"""The module folder format (services/content/adapters/module_folder.py,
docs/content/module-format.md): a folder of Markdown files with YAML front matter read into a
checked Module, every problem named `file:line` and raised together, sizes bounded, nothing
outside the folder followed; a module written back reads equal; the published schemas are those
of the models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.content.adapters.module_folder import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    read_files,
    read_folder,
    schema_texts,
    write_files,
    write_folder,
)
from services.content.domain.modules import (
    Lesson,
    Module,
    QuizBlock,
    ReflectionBlock,
    Text,
    TextBlock,
    VideoBlock,
)
from services.content.modules import FOLDER as SHIPPED
from services.content.modules import shipped
from services.kernel.errors import InvalidArgument

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = (
    ".venv/bin/python -c 'from pathlib import Path; "
    "from services.content.adapters.module_folder import schema_texts; "
    '[Path("docs/schemas", n).write_text(t) for n, t in schema_texts().items()]\''
)

MODULE_MD = """\
---
format: ecoach.module/1
slug: giving-feedback
version: 2
minutes: 25
title:
  en: Giving feedback
  fr: Donner un feedback
summary:
  en: |-
    Feedback that helps.
    In three lessons.
  fr: Un feedback qui aide.
---

Notes for authors: not shown.
"""

LESSON_EN = """\
---
title: Prepare
---

Describe **what you saw**.

```video
url: https://www.ted.com/talks/feedback
title: A talk
```

```reflection
prompt: |
  What will you say?
```

Then listen.

```
a code sample: ```quiz inside is not a block
```

```quiz
instrument: confidence
```
"""

LESSON_FR = """\
---
title: Préparer
---

Décrivez **ce que vous avez vu**.

```video
url: https://www.ted.com/talks/feedback?language=fr
title: Une conférence
```

```reflection
prompt: Que direz-vous ?
```

Puis écoutez.

```
un exemple de code : ```quiz dedans n'est pas un bloc
```

```quiz
instrument: confidence
```
"""

SECOND_EN = "---\ntitle: Follow up\n---\n\nCheck in a week later.\n"
SECOND_FR = "---\ntitle: Suivre\n---\n\nFaites le point une semaine après.\n"


def folder(changes: dict[str, str | None] | None = None) -> dict[str, bytes]:
    """The files of a good module, with some replaced (None: removed)."""
    files: dict[str, str | None] = {
        "module.md": MODULE_MD,
        "lessons/01-prepare.en.md": LESSON_EN,
        "lessons/01-prepare.fr.md": LESSON_FR,
        "lessons/02-follow-up.en.md": SECOND_EN,
        "lessons/02-follow-up.fr.md": SECOND_FR,
    }
    files.update(changes or {})
    return {name: text.encode() for name, text in files.items() if text is not None}


def problems(files: dict[str, bytes]) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        read_files(files)
    return {f.field: f.description for f in caught.value.fields}


def put(files: dict[str, bytes], name: str, text: str) -> dict[str, bytes]:
    return {**files, name: text.encode()}


def edit(name: str, old: str, new: str) -> dict[str, bytes]:
    files = folder()
    text = files[name].decode()
    assert old in text
    return put(files, name, text.replace(old, new, 1))


def test_a_folder_reads_into_a_module_with_its_blocks_in_order() -> None:
    module = read_files(folder())
    assert (module.slug, module.version, module.minutes) == ("giving-feedback", 2, 25)
    assert module.summary.en == "Feedback that helps.\nIn three lessons."
    assert module.lesson_keys == ("prepare", "follow-up")
    first = module.lessons[0]
    assert first.title == Text(en="Prepare", fr="Préparer")
    assert [b.kind for b in first.blocks] == ["text", "video", "reflection", "text", "quiz"]
    video = first.blocks[1]
    assert isinstance(video, VideoBlock)
    assert video.url.fr == "https://www.ted.com/talks/feedback?language=fr"
    assert first.blocks[2] == ReflectionBlock(Text(en="What will you say?", fr="Que direz-vous ?"))
    code = first.blocks[3]
    assert isinstance(code, TextBlock)
    assert code.markdown.en.startswith("Then listen.\n\n```\na code sample")
    assert first.blocks[4] == QuizBlock("confidence")


def test_lessons_follow_their_numbers_not_their_names() -> None:
    files = folder()
    files["lessons/10-zz.en.md"] = files.pop("lessons/01-prepare.en.md")
    files["lessons/10-zz.fr.md"] = files.pop("lessons/01-prepare.fr.md")
    assert read_files(files).lesson_keys == ("follow-up", "zz")


def test_a_module_written_out_reads_back_equal() -> None:
    module = read_files(folder())
    written = write_files(module)
    assert sorted(written) == [
        "lessons/01-prepare.en.md",
        "lessons/01-prepare.fr.md",
        "lessons/02-follow-up.en.md",
        "lessons/02-follow-up.fr.md",
        "module.md",
    ]
    assert read_files({n: t.encode() for n, t in written.items()}) == module


@pytest.mark.parametrize(
    "slug", ["difficult-conversation", "giving-feedback", "managing-priorities"]
)
def test_every_shipped_module_survives_a_round_trip_through_a_folder(
    slug: str, tmp_path: Path
) -> None:
    [module] = [m for m in shipped() if m.slug == slug]
    write_folder(module, tmp_path / slug)
    assert read_folder(tmp_path / slug) == module
    assert read_folder(SHIPPED / slug) == module


def test_writing_never_overwrites_a_folder(tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        write_folder(read_files(folder()), tmp_path)


# ---------------------------------------------------------------- problems, with their lines


@pytest.mark.parametrize(
    ("files", "field", "why"),
    [
        (
            edit("lessons/01-prepare.fr.md", "```video", "```vidoe"),
            "lessons/01-prepare.fr.md:7",
            'unknown block kind "vidoe"',
        ),
        (
            edit(
                "lessons/01-prepare.en.md",
                "instrument: confidence\n```\n",
                "instrument: confidence\n",
            ),
            "lessons/01-prepare.en.md:23",
            "this block is never closed",
        ),
        (
            edit("lessons/01-prepare.en.md", "title: A talk", "title: A talk\nlength: 5"),
            "lessons/01-prepare.en.md:10 length",
            "is not a field of this request",
        ),
        (
            edit("lessons/01-prepare.en.md", "title: A talk\n", ""),
            "lessons/01-prepare.en.md:8 title",
            "is required",
        ),
        (
            edit("lessons/01-prepare.en.md", "instrument: confidence", "instrument: Confidence!"),
            "lessons/01-prepare.en.md:24 instrument",
            "has an invalid format",
        ),
        (
            edit("lessons/01-prepare.fr.md", "instrument: confidence", "instrument: values"),
            "lessons/01-prepare.fr.md:23 instrument",
            "must be the instrument of lessons/01-prepare.en.md:24",
        ),
        (
            edit("lessons/01-prepare.en.md", "url: https://www.ted.com/talks/feedback", "url: [a"),
            "lessons/01-prepare.en.md:9",  # where the parser finds the list unfinished
            "is not valid YAML",
        ),
        (
            edit("lessons/01-prepare.en.md", "instrument: confidence", "- confidence"),
            "lessons/01-prepare.en.md:24",
            "must be a set of names and values",
        ),
        (
            edit("lessons/01-prepare.fr.md", "```reflection", "```quiz"),
            "lessons/01-prepare.fr.md:13 prompt",
            "is not a field of this request",
        ),
        (
            edit("module.md", "  fr: Donner un feedback\n", ""),
            "module.md:6 title.fr",  # the line of title, where fr is missing
            "is required",
        ),
        (
            edit("module.md", "minutes: 25", "minutes: 'twenty'"),
            "module.md:5 minutes",
            "",
        ),
        (
            edit("module.md", "format: ecoach.module/1", "format: ecoach.module/9"),
            "module.md:2 format",
            "",
        ),
        (
            edit("module.md", "slug: giving-feedback", "slug: Giving Feedback"),
            "module.md:3 slug",
            "",
        ),
        (
            edit("module.md", "---\nformat", "format"),
            "module.md:1",
            "must start with a front matter between two --- lines",
        ),
        (
            edit("lessons/02-follow-up.en.md", "title: Follow up\n---", "title: Follow up"),
            "lessons/02-follow-up.en.md:1",
            "the front matter has no closing --- line",
        ),
        (
            edit("lessons/02-follow-up.en.md", "Check in a week later.", "#"),
            "lessons/02-follow-up.en.md:5 lessons[1].blocks[0].markdown.en",
            "shows nothing once rendered",
        ),
        (
            edit(
                "lessons/01-prepare.fr.md",
                "url: https://www.ted.com/talks/feedback?language=fr",
                "url: https://www.ted_talks.com/feedback",
            ),
            "lessons/01-prepare.fr.md:8 lessons[0].blocks[1].url.fr",
            "an https address",
        ),
        (
            edit(
                "lessons/02-follow-up.fr.md",
                "Faites",
                "- liste\n\n  ```quiz\n  instrument: x\n  ```\n",
            ),
            "lessons/02-follow-up.fr.md:7",
            "outside lists and quotes",
        ),
        (
            put(
                folder(),
                "lessons/02-follow-up.fr.md",
                SECOND_FR + "\n```reflection\nprompt: Et ?\n```\n",
            ),
            "lessons/02-follow-up.fr.md:7",
            "has no counterpart in lessons/02-follow-up.en.md",
        ),
        (
            put(folder(), "lessons/02-follow-up.en.md", "---\ntitle: Follow up\n---\n"),
            "lessons/02-follow-up.en.md:4",
            "the lesson has no content",
        ),
        (folder({"module.md": None}), "module.md", "is required"),
        (
            folder({"lessons/02-follow-up.fr.md": None}),
            "lessons/02-follow-up.en.md",
            "needs its French twin, lessons/02-follow-up.fr.md",
        ),
        (
            put(folder(), "lessons/02-other.en.md", SECOND_EN),
            "lessons/02-other.en.md",
            "2 is the number of another lesson",
        ),
        (
            put(folder(), "lessons/03-prepare.en.md", SECOND_EN),
            "lessons/03-prepare.en.md",
            "another lesson has this key",
        ),
        (
            put(folder(), "lessons/notes.txt", "notes"),
            "lessons/notes.txt",
            "is not module.md nor lessons/NN-key.en.md or NN-key.fr.md",
        ),
        (
            {**folder(), "lessons/02-follow-up.fr.md": b"\xff\xfe"},
            "lessons/02-follow-up.fr.md",
            "is not UTF-8 (byte 0)",
        ),
        (
            put(folder(), "lessons/03-big.en.md", "x" * (MAX_FILE_BYTES + 1)),
            "lessons/03-big.en.md",
            "is larger than 64 KiB; split the file",
        ),
        (
            {
                "module.md": MODULE_MD.encode(),
            },
            "lessons",
            "must not be empty",
        ),
    ],
)
def test_each_problem_is_named_by_file_and_line(
    files: dict[str, bytes], field: str, why: str
) -> None:
    found = problems(files)
    assert field in found, found
    assert why in found[field]


def test_a_yaml_alias_is_refused_before_anything_is_built() -> None:
    bomb = "---\ntitle: &a Follow up\nother: *a\n---\n\nText.\n"
    found = problems(put(folder(), "lessons/02-follow-up.en.md", bomb))
    assert found == {"lessons/02-follow-up.en.md:3": "YAML aliases (*name) are not allowed here"}


def test_every_problem_of_every_file_comes_at_once_in_file_order() -> None:
    files = edit("lessons/01-prepare.fr.md", "```video", "```vidoe")
    files = put(files, "module.md", MODULE_MD.replace("minutes: 25", "minutes: 0"))
    files = put(
        files,
        "lessons/02-follow-up.en.md",
        "---\ntitle: Follow up\n---\n\n```reflection\nprompt: One?\n```\n\n```vidoe\n```\n```quiz\n```\n",
    )
    with pytest.raises(InvalidArgument) as caught:
        read_files(files)
    assert [f.field for f in caught.value.fields] == [
        "lessons/01-prepare.fr.md:7",
        "lessons/02-follow-up.en.md:9",
        "lessons/02-follow-up.en.md:12",  # the quiz's empty YAML, after the fence
        "module.md:5 minutes",
    ]
    assert caught.value.fields[-1].description == "must be 1 or more"
    assert caught.value.fields[-1].template  # said again in the caller's language


def test_a_problem_keeps_its_template_for_translation() -> None:
    with pytest.raises(InvalidArgument) as caught:
        read_files(edit("lessons/01-prepare.fr.md", "```video", "```vidoe"))
    [violation] = caught.value.fields
    assert violation.template.startswith('unknown block kind "%(kind)s"')
    assert dict(violation.values) == {"kind": "vidoe"}


# ---------------------------------------------------------------- sizes and the folder's edge


def test_too_many_files_are_refused_before_reading_any() -> None:
    files = {f"lessons/{n:02d}-l{n}.en.md": b"" for n in range(MAX_FILES + 1)}
    assert problems(files) == {".": f"holds more than {MAX_FILES} files"}


def test_too_many_bytes_in_all_are_refused() -> None:
    big = b"x" * (MAX_FILE_BYTES - 1)
    files = {f"lessons/{n:02d}-l{n}.en.md": big for n in range(MAX_TOTAL_BYTES // len(big) + 1)}
    assert problems(files) == {".": "holds more than 1024 KiB"}


def test_too_many_lessons_are_refused() -> None:
    files = folder()
    for n in range(3, 33):
        files[f"lessons/{n:02d}-l{n}.en.md"] = SECOND_EN.encode()
    files.pop("lessons/02-follow-up.fr.md")
    assert problems(files)["lessons"] == "at most 30"


def test_too_many_blocks_in_a_lesson_are_refused() -> None:
    body = "\n\n".join(["```quiz\ninstrument: confidence\n```"] * 41)
    found = problems(put(folder(), "lessons/02-follow-up.en.md", f"---\ntitle: T\n---\n\n{body}\n"))
    assert found == {"lessons/02-follow-up.en.md:165": "at most 40 blocks"}


@pytest.mark.parametrize(
    "name",
    [
        "../module.md",
        "/etc/passwd",
        "lessons/../../x.md",
        "lessons\\..\\x.md",
        "C:/x.md",
        "lessons//x.md",
        "",
    ],
)
def test_a_name_outside_the_folder_is_refused(name: str) -> None:
    found = problems({**folder(), name: b"x"})
    assert list(found.values()) == ["is outside the module's folder"]


def test_hidden_files_are_ignored_and_not_counted() -> None:
    hidden = {f".git/objects/{n}": b"x" for n in range(MAX_FILES + 1)}
    assert read_files({**folder(), **hidden, "lessons/.DS_Store": b"\0"}).slug


def test_a_strange_name_is_shown_escaped_and_the_message_names_no_file() -> None:
    with pytest.raises(InvalidArgument) as caught:
        read_files({**folder(), "lessons/\x1b[31mred.md": b"x", "../\nx": b"x"})
    assert {f.field for f in caught.value.fields} == {"lessons/\\x1b[31mred.md", "../\\nx"}
    assert caught.value.message == "The module folder has 2 problem(s)."


def test_a_folder_on_disk_refuses_symbolic_links(tmp_path: Path) -> None:
    write_folder(read_files(folder()), tmp_path / "m")
    outside = tmp_path / "secret.md"
    outside.write_text("---\ntitle: secret\n---\n\nSecret.\n")
    os.symlink(outside, tmp_path / "m" / "lessons" / "03-secret.en.md")
    os.symlink(tmp_path, tmp_path / "m" / "lessons" / "more")
    with pytest.raises(InvalidArgument) as caught:
        read_folder(tmp_path / "m")
    assert {f.field: f.description for f in caught.value.fields} == {
        "lessons/03-secret.en.md": "is a symbolic link; copy the files instead",
        "lessons/more": "is a symbolic link; copy the files instead",
    }
    os.symlink(tmp_path / "m", tmp_path / "link")
    with pytest.raises(InvalidArgument):
        read_folder(tmp_path / "link")


def test_a_big_file_on_disk_is_not_read(tmp_path: Path) -> None:
    write_folder(read_files(folder()), tmp_path / "m")
    (tmp_path / "m" / "lessons" / "02-follow-up.en.md").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InvalidArgument) as caught:
        read_folder(tmp_path / "m")
    assert {f.field: f.description for f in caught.value.fields} == {
        "lessons/02-follow-up.en.md": "is larger than 64 KiB; split the file",
        "lessons/02-follow-up.fr.md": "needs its English twin, lessons/02-follow-up.en.md",
    }


# ---------------------------------------------------------------- the published schemas


def test_the_published_schemas_are_up_to_date() -> None:
    for name, text in schema_texts().items():
        path = ROOT / "docs" / "schemas" / name
        assert path.read_text(encoding="utf-8") == text, f"{name} is stale; {REGENERATE}"
    module = json.loads(schema_texts()["module.schema.json"])
    assert module["title"] == "ecoach module"
    assert set(module["required"]) == {"slug", "version", "minutes", "title", "summary"}
    blocks = json.loads(schema_texts()["module-blocks.schema.json"])
    assert set(blocks["$defs"]) == {"video", "reflection", "quiz"}


# ---------------------------------------------------------------- round trip, for any module

PROPERTY = settings(
    derandomize=True,
    database=None,
    max_examples=120,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# Characters that mean something to YAML or Markdown, among words.
WORDS = st.text(
    alphabet=st.sampled_from("abcdeéàç XYZ0129.,;:!?'\"()*_-#>`~[]{}|&%@\\"),
    min_size=1,
    max_size=30,
)


def trimmed(max_lines: int) -> st.SearchStrategy[str]:
    """Text as a person writes it (and the reader keeps it): no blank line nor spaces at either
    end, no tab."""
    lines = st.lists(WORDS.map(str.rstrip), min_size=1, max_size=max_lines)
    return lines.map(lambda ls: "\n".join(ls).strip()).filter(bool)


def texts(max_lines: int = 1) -> st.SearchStrategy[Text]:
    return st.builds(Text, en=trimmed(max_lines), fr=trimmed(max_lines))


urls = st.builds(
    Text,
    en=st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9?=&%-]{0,20}", fullmatch=True),
    fr=st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9?=&%-]{0,20}", fullmatch=True),
)
blocks = st.one_of(
    st.builds(TextBlock, texts(4)),
    st.builds(VideoBlock, url=urls, title=texts()),
    st.builds(ReflectionBlock, texts(3)),
    st.builds(QuizBlock, st.sampled_from(["confidence", "values", "ins_0af3"])),
)
lessons = st.builds(
    Lesson,
    key=st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True),
    title=texts(),
    blocks=st.lists(blocks, min_size=1, max_size=5).map(tuple),
)
modules = st.builds(
    Module,
    slug=st.just("any-module"),
    version=st.integers(min_value=1, max_value=99),
    title=texts(),
    summary=texts(3),
    minutes=st.integers(min_value=1, max_value=600),
    lessons=st.lists(lessons, min_size=1, max_size=4, unique_by=lambda x: x.key).map(tuple),
)


@PROPERTY
@given(modules)
def test_any_checked_module_written_out_reads_back_equal(module: Module) -> None:
    try:
        module.check()
    except InvalidArgument:
        assume(False)  # the reader refuses what the domain refuses: nothing to write
    written = write_files(module)
    assert read_files({name: text.encode() for name, text in written.items()}) == module
