"""Shared shapes: the base model and pagination."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


class Contract(BaseModel):
    """Strict by default: unknown fields are refused, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Empty(Contract):
    pass


class PageRequest(Contract):
    page_size: int = Field(default=0, ge=0, le=10_000)
    page_token: str = Field(default="", max_length=512)

    def effective_page_size(self) -> int:
        if self.page_size <= 0:
            return DEFAULT_PAGE_SIZE
        return min(self.page_size, MAX_PAGE_SIZE)
