"""A text in the two languages every page, reason and label of the project is written in."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Text(BaseModel):
    """A text in Chinese and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]
