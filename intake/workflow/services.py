"""The catalogue of services a case can record (meals, shelter nights, sessions, ...).

One YAML file (workflows/catalogues/services.yaml) names every service type once,
with its label in every language the tracks ship and the unit it is counted in.
Tracks name these types in `requires_services`; the workflow check refuses a
type the catalogue does not know. The catalogue is read once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from intake.config import PROJECT_ROOT
from intake.i18n import gettext as _
from intake.workflow.schema import MAX_LANGUAGES, Labels, LanguageCode, Name, _Strict
from intake.yaml_source import DefinitionProblems, Problem, Source, load_yaml, pydantic_problems

CATALOGUE_FILE = PROJECT_ROOT / "workflows" / "catalogues" / "services.yaml"
MAX_SERVICE_TYPES = 100
# What a quantity counts; each has a plural-aware label in intake.cases.service_records.
Unit = Literal["item", "meal", "package", "night", "session", "trip", "hour", "eur"]
UNITS: tuple[str, ...] = ("item", "meal", "package", "night", "session", "trip", "hour", "eur")


class ServiceTypeDefinition(_Strict):
    """One kind of service, as written."""

    label: Labels
    unit: Unit = "item"


class CatalogueDefinition(_Strict):
    """The whole catalogue, as written."""

    languages: Annotated[list[LanguageCode], Field(min_length=1, max_length=MAX_LANGUAGES)]
    services: Annotated[
        dict[Name, ServiceTypeDefinition], Field(min_length=1, max_length=MAX_SERVICE_TYPES)
    ]


@dataclass(frozen=True)
class ServiceType:
    """One kind of service: its code, label per language and unit."""

    code: str
    label: Mapping[str, str]
    unit: str


@dataclass(frozen=True)
class Catalogue:
    """Every service type, in the order the file lists them."""

    languages: tuple[str, ...]
    types: Mapping[str, ServiceType]

    def codes(self) -> frozenset[str]:
        """The codes a track or a record may name."""
        return frozenset(self.types)


def parse_catalogue(text: str, *, file: str) -> Catalogue:
    """Check and read a catalogue; raise DefinitionProblems listing every problem."""
    source = load_yaml(text, file=file)
    if not isinstance(source.data, dict):
        raise DefinitionProblems([source.problem((), "a catalogue must be a mapping of keys")])
    try:
        definition = CatalogueDefinition.model_validate(source.data)
    except ValidationError as error:
        raise DefinitionProblems(pydantic_problems(source, error)) from None
    problems = _translation_problems(source, definition)
    if problems:
        raise DefinitionProblems(problems)
    return Catalogue(
        languages=tuple(definition.languages),
        types={
            code: ServiceType(code=code, label=dict(item.label), unit=item.unit)
            for code, item in definition.services.items()
        },
    )


def _translation_problems(source: Source, definition: CatalogueDefinition) -> list[Problem]:
    problems: list[Problem] = []
    for code, item in definition.services.items():
        for language in definition.languages:
            if language not in item.label:
                problems.append(
                    source.problem(
                        ("services", code, "label"),
                        _("the '%(language)s' translation is missing", language=language),
                    )
                )
        for language in item.label:
            if language not in definition.languages:
                problems.append(
                    source.problem(
                        ("services", code, "label", language),
                        _(
                            "'%(language)s' is not one of the catalogue's languages",
                            language=language,
                        ),
                    )
                )
    return problems


def read_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    """The catalogue in `path` (DefinitionProblems if it is broken or missing)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = Problem(path.name, 1, 1, f"cannot read the file: {error.__class__.__name__}")
        raise DefinitionProblems([problem]) from None
    return parse_catalogue(text, file=f"workflows/catalogues/{path.name}")


@lru_cache(maxsize=1)
def shipped_catalogue() -> Catalogue:
    """The catalogue this installation ships, read once."""
    return read_catalogue()
