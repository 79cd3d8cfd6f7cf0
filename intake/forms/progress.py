"""A filling in progress as the form engine sees it: a form, a language, a page, the answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from intake.forms.definition import FormDefinition, PageDef


class Filling(Protocol):
    """What the views need of a filling in progress (the filling domain's Filling is one)."""

    @property
    def form(self) -> FormDefinition: ...
    @property
    def content_language(self) -> str: ...
    @property
    def page(self) -> PageDef | None: ...
    @property
    def page_number(self) -> int: ...
    @property
    def answers(self) -> Mapping[str, Any]: ...
    @property
    def settled(self) -> Mapping[str, Any]: ...
    @property
    def asked(self) -> tuple[int, ...]: ...
