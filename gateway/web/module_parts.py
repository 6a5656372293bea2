"""E-learning modules (the content service, issue 23) as the web app shows them, shared by the
spaces' pages (coach.py, coachee.py) and the module pages (modules.py): a space's module
assignments with their progress, the catalogue offered to a coach, a module version's lessons
and blocks read from its `document_json` in the page's language, an uploaded folder's files
named as ImportModule takes them, and an exported folder (ExportModule) as a .zip to download.

Who sees what is the service's to decide (protos/ecoach/v1/content.proto): a space's modules to
its coachee, coach and co-coach; importing to operators."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import grpc
from markupsafe import Markup

from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import content_pb2 as cpb
from services.kernel.markdown import render as render_markdown

from .clients import authed
from .i18n import _, language
from .pages import clients

# A space's modules at once, and the catalogue's modules offered in the coach's form.
LISTED = 200
# ImportModule's own limits: files per folder, characters per file.
MOST_FILES = 61
LONGEST_FILE = 65_536
MODULE_FILE = "module.md"


def text(localized: Any) -> str:
    """An author's text (`LocalText`, or `{"en": ..., "fr": ...}` of a document) in the page's
    language, English when it has no French."""
    if isinstance(localized, dict):
        en, fr = str(localized.get("en") or ""), str(localized.get("fr") or "")
    elif isinstance(localized, cpb.LocalText):
        en, fr = localized.en, localized.fr
    else:  # a document without this text
        return ""
    return (fr if language() == "fr" else en) or en


def status_label(status: int) -> str:
    return {
        cpb.PROGRESS_STARTED: _("In progress"),
        cpb.PROGRESS_COMPLETED: _("Completed"),
    }.get(status, _("Not started"))


def minutes_spent(seconds: int) -> str:
    if seconds < 60:
        return _("less than a minute") if seconds else _("none yet")
    return _("%(minutes)s min", minutes=seconds // 60)


def lessons_done(progress: cpb.ModuleProgress) -> str:
    if not progress.lessons:  # not started: the version (and so its lessons) is not chosen yet
        return "—"
    return _(
        "%(done)s of %(total)s",
        done=len(progress.lessons_completed),
        total=len(progress.lessons),
    )


def assignments_of(space_name: str) -> list[cpb.ModuleAssignment]:
    """The space's modules, oldest first, with progress; none while the content service does
    not know the space yet (it learns of spaces from their events)."""
    try:
        reply = authed(
            clients(),
            clients().content.ListModuleAssignments,
            cpb.ListModuleAssignmentsRequest(parent=space_name, page_size=LISTED),
        )
    except grpc.RpcError as exc:
        if exc.code() in (  # type: ignore[attr-defined]
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.FAILED_PRECONDITION,
        ):
            return []
        raise
    return list(reply.assignments)


def catalogue() -> list[cpb.Module]:
    """The latest version of each module, by slug."""
    reply = authed(
        clients(), clients().content.ListModules, cpb.ListModulesRequest(page_size=LISTED)
    )
    return list(reply.modules)


def module_choices(assigned: list[cpb.ModuleAssignment]) -> list[tuple[str, str]]:
    """(slug, title) of the modules a coach may still assign to the space (once each)."""
    taken = {a.slug for a in assigned}
    return [(m.slug, text(m.title)) for m in catalogue() if m.slug not in taken]


# ------------------------------------------------------------------------- a module's lessons


@dataclass(frozen=True)
class Block:
    """A lesson's block as the page shows it, in the page's language."""

    index: int
    kind: str  # text, video, reflection, quiz
    html: str = ""  # text: rendered and sanitised (a Markup)
    title: str = ""  # video
    url: str = ""  # video
    prompt: str = ""  # reflection
    instrument: str = ""  # quiz

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    blocks: tuple[Block, ...]


def block_of(index: int, raw: dict[str, Any]) -> Block:
    kind = str(raw.get("kind", ""))
    if kind == "text":
        # Sanitised by nh3 in the kernel's renderer, as the notes are.
        html = Markup(render_markdown(text(raw.get("markdown"))))  # noqa: S704
        return Block(index, kind, html=html)
    if kind == "video":
        url = text(raw.get("url"))
        if not url.startswith("https://"):  # the service takes https only; never anything else
            url = ""
        return Block(index, kind, title=text(raw.get("title")), url=url)
    if kind == "reflection":
        return Block(index, kind, prompt=text(raw.get("prompt")))
    return Block(index, "quiz", instrument=str(raw.get("instrument", "")))


def lessons_of(module: cpb.Module) -> list[Lesson]:
    """The version's lessons in order, each with its blocks (GetModule's `document_json`)."""
    document = json.loads(module.document_json or "{}")
    return [
        Lesson(
            key=str(raw.get("key", "")),
            title=text(raw.get("title")),
            blocks=tuple(block_of(i, b) for i, b in enumerate(raw.get("blocks", []))),
        )
        for raw in document.get("lessons", [])
    ]


def module_version(slug: str, version: int) -> cpb.Module:
    return authed(
        clients(),
        clients().content.GetModule,
        cpb.GetModuleRequest(slug=slug, version=version),
    )


def quiz_links(assignments: list[apb.Assignment]) -> dict[str, str]:
    """Instrument (slug and id) -> the space's questionnaire assignment of it, for the quiz
    blocks the coach has assigned as a questionnaire in the space."""
    found: dict[str, str] = {}
    for a in assignments:
        found.setdefault(a.slug, a.assignment_id)
        found.setdefault(a.instrument_id, a.assignment_id)
    return found


# ---------------------------------------------------------------------- an uploaded folder


def folder_path(filename: str, from_folder: bool) -> str:
    """A file's path in the module's folder, as ImportModule takes it. A browser sends a
    folder's files (`webkitdirectory`) named by their path from the chosen folder, which comes
    first (`giving-feedback/lessons/01-prepare.en.md`): it is dropped. Files chosen one by one
    have their name only: `module.md` stays at the top, any other is a lesson."""
    parts = [p for p in filename.replace("\\", "/").split("/") if p not in ("", ".")]
    if from_folder and len(parts) > 1:
        return "/".join(parts[1:])
    name = parts[-1] if parts else ""
    return name if name == MODULE_FILE else f"lessons/{name}"


def hidden(path: str) -> bool:
    """`.git`, `.DS_Store`...: hidden files and folders are not part of a module."""
    return any(part.startswith(".") for part in path.split("/"))


# ---------------------------------------------------------------------- an exported folder

# Every entry of a download bears this time: the same version always gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def download_name(slug: str, version: int) -> str:
    """The file name a download is saved as (`giving-feedback-v2.zip`): letters, digits and
    hyphens of the slug only, whatever it holds, so that the header needs no quoting."""
    kept = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")[:64] or "module"
    return f"{kept}-v{max(version, 0)}.zip"


def safe_entry(path: str) -> str | None:
    """A folder file's path as a zip entry, or None when it is not a plain relative path (no
    `..`, no leading `/` or drive, no backslash, no hidden part): unzipped, nothing may land
    outside the module's folder."""
    parts = path.split("/")
    if not path or len(path) > 255 or not all(SAFE_PART.fullmatch(p) for p in parts):
        return None
    return path


def module_zip(folder: cpb.ModuleFolder) -> bytes:
    """The module's folder as a .zip: its files under a folder named as the download (the
    slug and version), as `ecoach modules export` writes it and the import page takes it back
    (choosing that folder). A path that is not safe is left out."""
    top = download_name(folder.slug, folder.version).removesuffix(".zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in folder.files:
            entry = safe_entry(file.path)
            if entry is None:
                continue
            info = zipfile.ZipInfo(f"{top}/{entry}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.text.encode("utf-8"))
    return buffer.getvalue()
