"""The assessment service's contract. For now: the instrument document, the import/export format
(YAML or JSON) in which coaches and publishers share instruments, and whose JSON schema is
published as docs/schemas/instrument.schema.json (`schema_text()`; a unit test keeps the file
up to date). services/assessment/documents.py turns a document into the domain's Instrument,
whose `check()` adds the rules a schema cannot say (bands covering the range, items a dimension
names). Then the service's RPC payloads, its events and its method table (`AssessmentApi`).
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from services.kernel.validation import MULTI_LINE

from . import identity
from .base import Api, Contract, Empty, Method, PingResponse

SERVICE = "assessment"
FORMAT = "ecoach.instrument/1"

Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
Line = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Paragraph = Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]
ItemKind = Literal[
    "likert", "single_choice", "multiple_choice", "numeric_scale", "ranking", "free_text"
]


class DocumentPart(Contract):
    """Strict as well as closed: "3" is not 3, and a misspelt field is an error."""

    model_config = ConfigDict(strict=True)


class LineText(DocumentPart):
    """A short text (a title, a prompt, a label) in English and French."""

    en: Line
    fr: Line


class ParagraphText(DocumentPart):
    """A longer text (a description, a band's meaning) in English and French."""

    en: Paragraph
    fr: Paragraph


class OptionDocument(DocumentPart):
    key: Key
    label: LineText
    value: float = Field(default=0, description="What choosing it scores (not for rankings).")


class ItemDocument(DocumentPart):
    id: Key
    kind: ItemKind
    prompt: LineText
    required: bool = True
    min: float = Field(default=0, description="likert and numeric_scale: the lowest answer.")
    max: float = Field(default=0, description="likert and numeric_scale: the highest answer.")
    step: float = Field(default=1, description="numeric_scale: the answers' spacing.")
    labels: list[LineText] = Field(
        default_factory=list, max_length=11, description="likert: one per point, min first."
    )
    options: list[OptionDocument] = Field(
        default_factory=list,
        max_length=30,
        description="single_choice, multiple_choice, ranking: the options.",
    )
    max_length: int = Field(default=0, ge=0, description="free_text: at most these characters.")


class BandDocument(DocumentPart):
    """Scores from `from` (included) up to `to` (excluded; the last band includes it)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: float = Field(alias="from")
    to: float
    label: LineText
    meaning: ParagraphText


class DimensionDocument(DocumentPart):
    id: Key
    title: LineText
    items: list[Key] = Field(min_length=1, max_length=200)
    method: Literal["sum", "mean", "weighted"] = "sum"
    weights: dict[Key, float] = Field(
        default_factory=dict, description="weighted: item id -> weight (1 when not given)."
    )
    reversed: list[Key] = Field(
        default_factory=list, description="Items scored min + max - answer."
    )
    bands: list[BandDocument] = Field(min_length=1, max_length=20)


class InstrumentDocument(DocumentPart):
    """An instrument, versioned: a changed instrument is published with the next version."""

    model_config = ConfigDict(title="ecoach instrument")

    format: Literal["ecoach.instrument/1"] = "ecoach.instrument/1"  # FORMAT
    slug: Slug
    version: int = Field(ge=1)
    title: LineText
    description: ParagraphText
    items: list[ItemDocument] = Field(min_length=1, max_length=200)
    dimensions: list[DimensionDocument] = Field(default_factory=list, max_length=50)


def schema_text() -> str:
    """The published schema, as docs/schemas/instrument.schema.json holds it."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **InstrumentDocument.model_json_schema(),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class AssessmentApi(Api):
    """What the assessment service serves."""

    service = SERVICE

    ping = Method(Empty, PingResponse)
    export_personal_data = Method(Empty, identity.PersonalDataExport)
