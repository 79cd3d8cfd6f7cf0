"""The shape of a workflow definition (one YAML file per track), as written.

These models only check shape and spelling; what needs the whole track (states
that nothing reaches, unknown forms, expressions) is checked by the loader,
which can place every problem at its line and column.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ROLES = frozenset({"outreach_worker", "supervisor", "admin"})
TEAM_FUNCTIONS = frozenset(
    {"social_worker", "psychologist", "health_specialist", "pedagogue", "law_enforcement_liaison"}
)
# The purposes a person consents to (intake.cases.consent.Purpose): a transition may require them.
CONSENT_PURPOSES = ("services", "sharing", "referral", "return")
ConsentPurpose = Literal["services", "sharing", "referral", "return"]
ANY_STATE = "*"
# Generous bounds: a track that parses must still fit the database (version) and a page.
MAX_VERSION = 2_147_483_647
MAX_PRIORITY = 1_000_000
MAX_LANGUAGES = 20
MAX_STATES = 200
MAX_TRANSITIONS = 1_000
MAX_NAMES = 100

# Names end up in URLs, HTML ids and transitions' own tables: keep them plain.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Labels = Annotated[dict[LanguageCode, Text], Field(max_length=MAX_LANGUAGES)]
Names = Annotated[list[Name], Field(max_length=MAX_NAMES)]
# How many of a service a step needs ("3 psychological sessions"): bounded like a form's numbers.
MAX_SERVICES_REQUIRED = 1_000
ServiceCounts = Annotated[
    dict[Name, Annotated[int, Field(ge=1, le=MAX_SERVICES_REQUIRED)]], Field(max_length=MAX_NAMES)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StateDefinition(_Strict):
    """One stage of a track."""

    label: Labels
    forms: Names = Field(default_factory=list)
    sla_days: Annotated[int, Field(gt=0, le=3650)] | None = None
    team: Names = Field(default_factory=list)
    # The stage's `team` functions must be held before a step out of it (else they are only
    # shown as "needed here"). Steps that require a reason (lost contact, closing early)
    # record what happened and stay possible whatever the team.
    team_required: bool = False
    final: bool = False


class TransitionDefinition(_Strict):
    """A move between stages, and who may make it under which conditions."""

    trigger: Name
    source: Name | Literal["*"] | Names
    dest: Name
    label: Labels
    # Deny by default: a transition that names no role can be fired by nobody.
    roles: Names = Field(default_factory=list)
    requires_forms: Names = Field(default_factory=list)
    condition: Text | None = None
    # The condition in plain words, in every language of the track (the check insists).
    explain: Labels | None = None
    # Services delivered on the case before the step (intake.cases.service_records).
    requires_services: ServiceCounts = Field(default_factory=dict)
    requires_team: Names = Field(default_factory=list)
    # The person's latest consent must allow each of these ("Needs the person's consent to ...").
    requires_consent: Annotated[list[ConsentPurpose], Field(max_length=len(CONSENT_PURPOSES))] = (
        Field(default_factory=list)
    )
    requires_reason: bool = False


class AgeTarget(_Strict):
    """Where a case goes when the person comes of age: a track, and a stage for each stage."""

    track: Name
    state_map: Annotated[dict[Name, Name], Field(min_length=1, max_length=MAX_STATES)]


class AgeRule(_Strict):
    """What happens when the person reaches `years` (a girls' track hands over at 18)."""

    years: Annotated[int, Field(ge=1, le=120)]
    go_to: AgeTarget


class TrackDefinition(_Strict):
    """A whole track: its stages and the moves between them."""

    id: Name
    version: Annotated[int, Field(ge=1, le=MAX_VERSION)]
    languages: Annotated[list[LanguageCode], Field(min_length=1, max_length=MAX_LANGUAGES)]
    title: Labels
    applies_when: Text | None = None
    priority: Annotated[int, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY)] = 0
    initial: Name
    on_age: AgeRule | None = None
    states: Annotated[dict[Name, StateDefinition], Field(min_length=1, max_length=MAX_STATES)]
    transitions: Annotated[list[TransitionDefinition], Field(max_length=MAX_TRANSITIONS)] = Field(
        default_factory=list
    )
