"""Names of breakdowns and of their values, in the reader's language.

Choice labels come from the published intake form (its own translations); track and stage
names from the workflow definitions, as on the dashboard; the rest from the catalogs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from intake.cases.dashboard import Tracks
from intake.cases.rules import reader_language
from intake.cases.service_words import service_label
from intake.definitions import service as definitions
from intake.forms.definition import FieldDef, FormDefinition
from intake.i18n import format_date
from intake.i18n import gettext as _
from intake.statistics import codes, tables
from intake.statistics.profiles import INTAKE_FORM

# Which intake question each breakdown counts (for its choice labels).
QUESTIONS = {
    "gender": "gender",
    "nationality": "nationality",
    "exploitation_country": "exploitation_country",
    "exploitation": "exploitation_type",
    "control": "means_of_control",
    "recruitment": "recruitment",
    "needs": "immediate_needs",
}


def breakdown_title(key: str) -> str:
    """What a breakdown counts."""
    titles: dict[str, Callable[[], str]] = {
        "opened": lambda: _("Cases opened per month"),
        "closed": lambda: _("Cases closed per month"),
        "track": lambda: _("Cases by track"),
        "stage": lambda: _("Cases by stage"),
        "gender": lambda: _("People by gender"),
        "age_band": lambda: _("People by age at intake"),
        "nationality": lambda: _("People by nationality"),
        "exploitation_country": lambda: _("People by country of exploitation"),
        "exploitation": lambda: _("People by type of exploitation"),
        "control": lambda: _("People by means of control"),
        "recruitment": lambda: _("People by how they were recruited"),
        "needs": lambda: _("People by immediate needs"),
        "services": lambda: _("People who received each type of service"),
        "referrals": lambda: _("Referrals between organisations, by outcome"),
        "overlaps": lambda: _("Possible overlaps found between organisations"),
    }
    return titles[key]() if key in titles else key


def _field(form: FormDefinition | None, name: str) -> FieldDef | None:
    if form is None:
        return None
    return next((f for f in form.top_level_fields() if f.name == name), None)


class Labels:
    """Labels for one page: the intake form and the tracks are read once."""

    def __init__(self, *, db: Session) -> None:
        version = definitions.latest(db=db, kind="form", key=INTAKE_FORM)
        self.form = definitions.compiled_form(version) if version is not None else None
        self.tracks = Tracks(db=db)

    def _choice(self, question: str, name: str) -> str:
        field = _field(self.form, question)
        option = field.choice(name) if field is not None else None
        if option is None or self.form is None:
            return name
        return self.form.text(option.label, reader_language(self.form.languages)) or name

    def value(self, key: str, value: str) -> str:
        """A value of a breakdown, as the reader reads it."""
        if value == codes.UNKNOWN:
            return _("Not known")
        if key in ("opened", "closed") and value != tables.STILL_OPEN:
            year, month = (int(part) for part in value.split("-"))
            return format_date(dt.date(year, month, 1), "MMM y")
        if key == "closed":
            return _("Still open")
        if key == "track":
            return self.tracks.title(value)
        if key == "stage":
            if value == tables.CLOSED_STAGE:
                return _("Closed")
            track, _slash, state = value.partition("/")
            return f"{self.tracks.title(track)}: {self.tracks.stage_label(track, state)}"
        if key == "age_band":
            return value
        if key in QUESTIONS:
            return self._choice(QUESTIONS[key], value)
        if key == "services":
            return service_label(value)
        return referral_outcome_label(value) if key == "referrals" else value


def referral_outcome_label(value: str) -> str:
    """Where a referral stands, or how it ended."""
    labels: dict[str, Callable[[], str]] = {
        "sent": lambda: _("Waiting for an answer"),
        "accepted": lambda: _("Accepted"),
        "declined": lambda: _("Declined"),
        "closed": lambda: _("Closed"),
        "delivered": lambda: _("Service given"),
        "not_delivered": lambda: _("Service not given"),
        "found": lambda: _("Found"),
    }
    return labels[value]() if value in labels else value
