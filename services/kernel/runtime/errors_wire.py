"""Teach nameko to turn our errors back into typed DomainErrors when a nested call fails."""

from __future__ import annotations

from nameko.exceptions import get_module_path, registry

from .. import errors


def register_domain_errors() -> None:
    for cls in (errors.DomainError, *_subclasses(errors.DomainError)):
        registry[get_module_path(cls)] = errors.from_wire


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found
