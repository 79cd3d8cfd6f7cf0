"""The shapes the API reads and answers, as documented in its OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
DefinitionKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
OpaqueId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
MAX_ANSWERS = 2_000


class Version(BaseModel):
    number: int
    published_at: dt.datetime


class Definition(BaseModel):
    """A published form or track: its newest version and every version kept."""

    key: str
    title: str
    languages: list[str]
    latest: int
    versions: list[Version]


class Definitions(BaseModel):
    forms: list[Definition]
    tracks: list[Definition]


class SubmissionIn(BaseModel):
    """A whole filling. The client makes `client_id` once per filling: sending it again with
    the same answers returns the stored submission (200); with other answers, 409."""

    model_config = ConfigDict(extra="forbid")

    client_id: ClientId
    form: DefinitionKey
    version: Annotated[int | None, Field(ge=1, le=1_000_000)] = None
    language: Annotated[str | None, Field(max_length=16)] = None
    case_id: OpaqueId | None = None
    answers: Annotated[dict[str, Any], Field(max_length=MAX_ANSWERS)]


class SubmissionOut(BaseModel):
    id: str
    client_id: str
    form: str
    version: int
    case_id: str | None
    submitted_at: dt.datetime
    created: bool


class Stage(BaseModel):
    key: str
    label: str
    entered_at: dt.datetime


class HistoryEntry(BaseModel):
    at: dt.datetime
    kind: str
    who: str
    role: str
    text: str
    reason: str


class FilledForm(BaseModel):
    """The newest submission of one form in the case. Sensitive answers only for the team
    and the organisation's supervisors; for anyone else they are named in `withheld`."""

    form: str
    version: int
    submitted_at: dt.datetime
    answers: dict[str, Any]
    withheld: list[str]


class CaseOut(BaseModel):
    id: str
    reference: str
    track: str
    stage: Stage
    closed_at: dt.datetime | None
    created_at: dt.datetime
    history: list[HistoryEntry]
    forms: list[FilledForm]


class Count(BaseModel):
    """A count as a coordinator sees it: null when hidden; `small` when hidden for being under
    the threshold, otherwise hidden so that a small count cannot be worked out."""

    value: int | None
    small: bool


class Line(BaseModel):
    code: str
    label: str
    count: Count


class Breakdown(BaseModel):
    key: str
    title: str
    multiple: bool
    total: Count
    lines: list[Line]


class StageStay(BaseModel):
    track: str
    stage: str
    label: str
    median_days: float | None


class StatisticsOut(BaseModel):
    """Anonymised figures, every small cell (and every cell that would give one away) hidden."""

    year: int | None
    years: list[int]
    threshold: int
    organisations: int
    cases: Count
    breakdowns: list[Breakdown]
    stays: list[StageStay]


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
