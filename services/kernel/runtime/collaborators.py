"""Collaborators a service's handlers are given (a mailer, the master key, the settings), as
nameko dependency providers: built once when the container starts, never at import time, and
replaceable in tests (nameko's `replace_dependencies`).

    master = Collaborator(deployment_master_key)
    mailer = mailer_of(MAILS)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from nameko.extensions import DependencyProvider

from ..config import settings
from ..mail import Mail
from .mailer import Mailer, mailer_from

T = TypeVar("T")


class Collaborator(DependencyProvider, Generic[T]):  # type: ignore[misc]
    """`build()` runs at the container's setup; every worker gets the same object."""

    def __init__(self, build: Callable[[], T]) -> None:
        self.build = build
        self.value: T | None = None

    def setup(self) -> None:
        self.value = self.build()

    def get_dependency(self, worker_ctx: Any) -> T:
        assert self.value is not None, "a collaborator is used before its container's setup"
        return self.value


def mailer_of(mails: Mapping[str, Mail]) -> Collaborator[Mailer]:
    """The deployment's mailer (its SMTP settings) speaking with the service's templates:

    mailer: Mailer = mailer_of(MAILS)"""
    return Collaborator(lambda: mailer_from(settings(), mails))
