"""What the API does, each in one function over the domains' own services.

No rule lives here: validation and sealing are intake.filling's, need to know is
intake.cases' (the one scoped query and may_read_sensitive); this module only
turns their answers and refusals into the API's shapes and JSON errors.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.api import schemas
from intake.api.errors import ApiError
from intake.cases import access, case_forms, labels, timeline
from intake.cases import notes as case_notes
from intake.cases import service as cases
from intake.cases.models import Case
from intake.cases.rules import reader_language, touch_case
from intake.config import Settings
from intake.db import read_transaction, write_transaction
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.filling import service as forms
from intake.filling.drafts import submission_by_client_id
from intake.filling.models import Submission
from intake.forms.storage import sealed_names
from intake.i18n import gettext as _
from intake.statistics import figures as statistics

_OPAQUE_ID = re.compile(r"[0-9a-f]{32}")


# --- definitions ----------------------------------------------------------------------


def _versions(db: Session, kind: str, key: str) -> list[schemas.Version]:
    found = definitions.versions(db=db, kind=kind, key=key)  # type: ignore[arg-type]
    return [schemas.Version(number=v.number, published_at=v.published_at) for v in found]


def published_definitions(*, db: Session) -> schemas.Definitions:
    """Every published form and track: the newest version's title and languages, and
    every version number kept."""
    with read_transaction(db):
        found_forms = []
        for version in definitions.latest_of_kind(db=db, kind="form"):
            form = definitions.compiled_form(version)
            found_forms.append(
                schemas.Definition(
                    key=version.key,
                    title=form.text(form.title, reader_language(form.languages)),
                    languages=list(form.languages),
                    latest=version.number,
                    versions=_versions(db, "form", version.key),
                )
            )
        tracks = []
        for version, workflow in definitions.current_workflows(db=db):
            tracks.append(
                schemas.Definition(
                    key=version.key,
                    title=labels.track_title(workflow),
                    languages=list(workflow.languages),
                    latest=version.number,
                    versions=_versions(db, "workflow", version.key),
                )
            )
    return schemas.Definitions(forms=found_forms, tracks=tracks)


# --- submissions ----------------------------------------------------------------------


def _form_version(db: Session, key: str, number: int | None) -> DefinitionVersion:
    if number is None:
        version = definitions.latest(db=db, kind="form", key=key)
    else:
        version = next(
            (v for v in definitions.versions(db=db, kind="form", key=key) if v.number == number),
            None,
        )
    if version is None:
        raise ApiError(404, "form_not_found", _("No published form has this key and version."))
    return version


def _case_not_found(db: Session, user: User, case_id: str, action: str) -> ApiError:
    """Audit a request for a case the caller may not see (or that does not exist)."""
    shown = case_id if _OPAQUE_ID.fullmatch(case_id) else ""
    access.record_unseen(db=db, user=user, case_id=shown, action=action)
    return ApiError(404, "case_not_found")


def submit_filling(
    *, db: Session, settings: Settings, user: User, payload: schemas.SubmissionIn
) -> schemas.SubmissionOut:
    """Validate and store a whole filling once under its client id, as the web form does
    (sensitive answers sealed); in a case only if the caller may see the case."""
    with read_transaction(db):
        version = _form_version(db, payload.form, payload.version)
        in_case = payload.case_id is None or case_forms.may_fill_in_case(
            db=db, user=user, case_id=payload.case_id
        )
    if not in_case:
        raise _case_not_found(db, user, payload.case_id or "", "form.submitted")
    try:
        with write_transaction(db):
            created = submission_by_client_id(db, payload.client_id) is None
            submission = forms.submit(
                db=db,
                settings=settings,
                user=user,
                version=version,
                client_id=payload.client_id,
                answers=payload.answers,
                language=payload.language or user.locale or "",
                case_id=payload.case_id,
            )
            if created and submission.case_id is not None:
                touch_case(db=db, case_id=submission.case_id, at=submission.submitted_at)
    except forms.FormInvalid as invalid:
        raise ApiError(422, "answers_invalid", fields=dict(invalid.errors)) from None
    except forms.SubmissionConflict as conflict:
        raise ApiError(409, "client_id_conflict", str(conflict)) from None
    except forms.FillingNotFound:
        raise ApiError(404, "client_id_not_found") from None
    return _submission_out(submission, version.number, created)


def _submission_out(submission: Submission, number: int, created: bool) -> schemas.SubmissionOut:
    return schemas.SubmissionOut(
        id=submission.id,
        client_id=submission.client_id,
        form=submission.form_key,
        version=number,
        case_id=submission.case_id,
        submitted_at=submission.submitted_at,
        created=created,
    )


# --- cases ----------------------------------------------------------------------------


def read_case(*, db: Session, settings: Settings, user: User, case_id: str) -> schemas.CaseOut:
    """A case the caller may see: its stage, its history and the answers they may read.
    Any other id is a 404, audited as a probe; a read is audited as a view."""
    try:
        case = access.get_visible_case(db=db, user=user, case_id=case_id)
    except access.CaseNotFound:
        raise _case_not_found(db, user, case_id, "case.viewed") from None
    need_to_know = case_notes.may_read_sensitive(db=db, user=user, case=case)
    workflow = labels.workflow_of_version(db, case.workflow_version_id)
    out = schemas.CaseOut(
        id=case.id,
        reference=case.reference,
        track=case.track,
        stage=schemas.Stage(
            key=case.state,
            label=labels.state_label(workflow, case.state),
            entered_at=case.state_entered_at,
        ),
        closed_at=case.closed_at,
        created_at=case.created_at,
        history=[
            schemas.HistoryEntry(
                at=e.at, kind=e.kind, who=e.who, role=e.role, text=e.text, reason=e.reason
            )
            for e in timeline.timeline(db=db, settings=settings, case=case, with_notes=False)
        ],
        forms=_filled_forms(db, settings, case, need_to_know),
    )
    cases.record_view(db=db, user=user, case=case)
    return out


def _filled_forms(
    db: Session, settings: Settings, case: Case, need_to_know: bool
) -> list[schemas.FilledForm]:
    found = []
    for key, submission in cases.latest_submissions(db=db, case=case).items():
        version = definitions.get_version(db=db, version_id=submission.form_version_id)
        if version is None:
            continue
        stored: dict[str, Any] = submission.answers if isinstance(submission.answers, dict) else {}
        withheld: list[str] = []
        if need_to_know:
            stored = forms.submission_answers(db=db, settings=settings, submission=submission)
        else:
            # Never decrypted for this reader: only the names of the sealed answers.
            sealed = sealed_names(definitions.compiled_form(version))
            withheld = sorted(n for n in sealed if stored.get(n) not in (None, "", []))
            stored = {n: v for n, v in stored.items() if n not in sealed}
        found.append(
            schemas.FilledForm(
                form=key,
                version=version.number,
                submitted_at=submission.submitted_at,
                answers=stored,
                withheld=withheld,
            )
        )
    return found


# --- statistics -----------------------------------------------------------------------


def _count(count: statistics.Count) -> schemas.Count:
    return schemas.Count(value=count.value, small=count.small)


def read_statistics(
    *, db: Session, settings: Settings, user: User, year: str
) -> schemas.StatisticsOut:
    """The anonymised figures as the statistics page shows them to this user (audited there)."""
    try:
        filters = statistics.parse_filters(year=year)
    except statistics.FilterError as exc:
        raise ApiError(422, "invalid", fields={"year": str(exc)}) from None
    shown = statistics.coordinator_figures(db=db, user=user, filters=filters, settings=settings)
    return schemas.StatisticsOut(
        year=shown.filters.year,
        years=list(shown.years),
        threshold=shown.threshold,
        organisations=shown.organisations,
        cases=_count(shown.cases),
        breakdowns=[
            schemas.Breakdown(
                key=b.key,
                title=b.title,
                multiple=b.multiple,
                total=_count(b.total),
                lines=[
                    schemas.Line(code=line.code, label=line.label, count=_count(line.count))
                    for line in b.lines
                ],
            )
            for b in shown.breakdowns
        ],
        stays=[
            schemas.StageStay(
                track=s.track, stage=s.state, label=s.label, median_days=s.median_days
            )
            for s in shown.stays
        ],
    )
