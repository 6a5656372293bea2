"""Instrument documents (services/contracts/assessment.py, YAML or JSON) to the domain's
Instrument and back. The contract cannot import the service (kernel and contracts import no
service), so the translation lives here, beside the domain, for the catalogue and for coaches'
imports and exports alike.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from services.contracts.assessment import (
    InstrumentDocument,
    ItemDocument,
    LineText,
    ParagraphText,
)
from services.kernel.errors import invalid
from services.kernel.validation import validation_error

from ..domain.instruments import Band, Dimension, Instrument, Item, Option, Text

# yaml.safe_load's loader, in C when PyYAML was built with libyaml (ten times faster).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_document(source: str) -> InstrumentDocument:
    """A document from YAML or JSON text (JSON is YAML), as strict as the schema; otherwise
    InvalidArgument naming each bad field."""
    try:
        data = yaml.load(source, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        raise invalid(document="is neither YAML nor JSON") from None
    try:
        return InstrumentDocument.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def read_instrument(source: str) -> Instrument:
    """A checked Instrument from a YAML or JSON document."""
    return instrument_of(read_document(source))


def instrument_of(document: InstrumentDocument) -> Instrument:
    """The domain's instrument for a document, checked (InvalidArgument naming what is wrong)."""
    return Instrument(
        slug=document.slug,
        version=document.version,
        title=_text(document.title),
        description=_text(document.description),
        items=tuple(_item(i) for i in document.items),
        dimensions=tuple(
            Dimension(
                id=d.id,
                title=_text(d.title),
                items=tuple(d.items),
                bands=tuple(Band(b.from_, b.to, _text(b.label), _text(b.meaning)) for b in d.bands),
                method=d.method,
                weights=tuple(d.weights.items()),
                reversed_items=frozenset(d.reversed),
            )
            for d in document.dimensions
        ),
    ).check()


def document_of(instrument: Instrument) -> InstrumentDocument:
    """The document that exports an instrument (`instrument_of` reads it back equal)."""
    data: dict[str, Any] = {
        "slug": instrument.slug,
        "version": instrument.version,
        "title": _plain(instrument.title),
        "description": _plain(instrument.description),
        "items": [_item_data(i) for i in instrument.items],
        "dimensions": [
            {
                "id": d.id,
                "title": _plain(d.title),
                "items": list(d.items),
                "method": d.method,
                "weights": dict(d.weights),
                "reversed": sorted(d.reversed_items),
                "bands": [
                    {
                        "from": b.lower,
                        "to": b.upper,
                        "label": _plain(b.label),
                        "meaning": _plain(b.meaning),
                    }
                    for b in d.bands
                ],
            }
            for d in instrument.dimensions
        ],
    }
    return InstrumentDocument.model_validate(data)


def write_document(instrument: Instrument) -> str:
    """An instrument as YAML text, in the document format."""
    data = document_of(instrument).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def _item(document: ItemDocument) -> Item:
    return Item(
        id=document.id,
        kind=document.kind,
        prompt=_text(document.prompt),
        required=document.required,
        scale_min=document.min,
        scale_max=document.max,
        step=document.step,
        labels=tuple(_text(t) for t in document.labels),
        options=tuple(Option(o.key, _text(o.label), o.value) for o in document.options),
        max_length=document.max_length,
    )


def _item_data(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "prompt": _plain(item.prompt),
        "required": item.required,
        "min": item.scale_min,
        "max": item.scale_max,
        "step": item.step,
        "labels": [_plain(t) for t in item.labels],
        "options": [
            {"key": o.key, "label": _plain(o.label), "value": o.value} for o in item.options
        ],
        "max_length": item.max_length,
    }


def _text(text: LineText | ParagraphText) -> Text:
    return Text(en=text.en, fr=text.fr)


def _plain(text: Text) -> dict[str, str]:
    return {"en": text.en, "fr": text.fr}
