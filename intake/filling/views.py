"""Filling forms on a phone: start, one page at a time, review, submit; and my drafts.

Every page works as a plain form post. With htmx the same routes answer with
only the `filling` block, and a redirect after a save is followed by htmx
itself. A page with errors answers 422 or 409, which htmx swaps in like a
page (base.html's htmx-config), so the person sees what to fix.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import web
from intake.accounts.models import User
from intake.config import Settings
from intake.deps import DbSession, Filler, SettingsDep, get_settings
from intake.filling import hooks
from intake.filling import service as forms
from intake.filling.drafts import Filling
from intake.forms import rendering
from intake.forms.answers import posted_from_pairs

router = APIRouter()

ClientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
FormKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
FIELD_LIMIT = 2_000  # far more inputs than any page has; a bound on what is parsed


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    """The posted (name, value) pairs; files are ignored and a broken body is a 400."""
    try:
        form = await request.form(max_files=0, max_fields=FIELD_LIMIT)
    except Exception as exc:  # a malformed body is the client's fault, never a 500
        raise HTTPException(status_code=400) from exc
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


Pairs = Annotated[list[tuple[str, str]], Depends(form_pairs)]


def _answers(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    # Buttons and the token are plumbing; field names never start with "_".
    return posted_from_pairs(
        (key, value) for key, value in pairs if key != "csrf_token" and not key.startswith("_")
    )


def _first(pairs: list[tuple[str, str]], key: str) -> str:
    return next((value for name, value in pairs if name == key), "")


def _fill_url(client_id: str) -> str:
    return f"/fill/{client_id}"


def _redirect(client_id: str) -> RedirectResponse:
    return RedirectResponse(_fill_url(client_id), status_code=303)


def _moved(
    request: Request, db: Session, settings: Settings, user: User, client_id: str
) -> Response:
    """After a save: htmx gets the filling as it now stands in the same answer (one round
    trip per Next, the address set by HX-Push-Url); a page without JavaScript a redirect."""
    if not web.is_htmx(request):
        return _redirect(client_id)
    response = _current(request, db, settings, user, client_id)
    if "HX-Redirect" not in response.headers:
        response.headers["HX-Push-Url"] = _fill_url(client_id)
    return response


def _current(
    request: Request, db: Session, settings: Settings, user: User, client_id: str
) -> Response:
    """The filling's page, its review, or what became of it once submitted."""
    try:
        filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
    except forms.FillingNotFound:
        submission = forms.find_submission(db=db, user=user, client_id=client_id)
        if submission is None:
            raise HTTPException(status_code=404) from None
        following = hooks.current().next_url(db=db, user=user, submission=submission)
        if following is not None:
            return _go(request, following)
        return web.render(request, "forms/done.html", {"submission": submission}, block="filling")
    return _render_page(request, db, user, filling)


def _go(request: Request, url: str) -> Response:
    """Leave the filling for another page: htmx must load it whole, not swap it in."""
    if web.is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _render_page(
    request: Request,
    db: Session,
    user: User,
    filling: Filling,
    *,
    posted: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **changes: Any,
) -> Response:
    if filling.on_review:
        return _render_review(request, db, user, filling, status=status)
    view = rendering.page_view(
        filling,
        posted=posted,
        errors=errors or {},
        today=forms.today_for(get_settings(request)),
        **changes,
    )
    context = {
        "view": view,
        "client_id": filling.draft.client_id,
        "page_index": filling.draft.page_index,
        "languages": rendering.language_choices(filling.form),
    }
    return web.render(request, "forms/fill.html", context, status_code=status, block="filling")


def _render_review(
    request: Request,
    db: Session,
    user: User,
    filling: Filling,
    *,
    status: int = 200,
    message: str = "",
) -> Response:
    settings = get_settings(request)
    checked = forms.review(settings=settings, filling=filling)
    form, language = filling.form, filling.draft.content_language
    overlaps = hooks.current().review_overlaps(db=db, settings=settings, user=user, filling=filling)
    context = {
        "intake_overlaps": overlaps,
        "title": form.text(form.title, language),
        "language": language,
        "client_id": filling.draft.client_id,
        "page_index": len(form.pages),
        "sections": rendering.review_sections(filling, checked.answers, checked.errors),
        "has_errors": bool(checked.errors),
        "digest": checked.digest,
        "message": message,
        "languages": rendering.language_choices(form),
    }
    return web.render(request, "forms/review.html", context, status_code=status, block="filling")


@router.get("/drafts")
def drafts_page(request: Request, db: DbSession, user: Filler) -> Response:
    context = {
        "drafts": forms.my_drafts(db=db, user=user),
        "startable": forms.startable_forms(db=db),
    }
    return web.render(request, "forms/drafts.html", context)


@router.get("/forms/{form_key}/new")
def start_page(request: Request, db: DbSession, user: Filler, form_key: FormKey) -> Response:
    try:
        form = forms.form_to_start(db=db, form_key=form_key)
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    context = {
        "form": form,
        # Made now, so a repeated tap on Start resumes the same filling.
        "client_id": forms.new_client_id(),
        "chosen": user.locale if user.locale in form.languages else form.default_language,
        "languages": rendering.language_choices(form),
    }
    return web.render(request, "forms/start.html", context)


@router.post("/forms/{form_key}/new")
def start(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: Filler,
    form_key: FormKey,
    client_id: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{16,64}$")],
    language: Annotated[str, Form(max_length=10)] = "",
    case_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    if forms.find_submission(db=db, user=user, client_id=client_id) is not None:
        return _redirect(client_id)
    if case_id and not hooks.current().may_fill_in_case(db=db, user=user, case_id=case_id):
        raise HTTPException(status_code=404)
    try:
        draft = forms.start_filling(
            db=db,
            settings=settings,
            user=user,
            form_key=form_key,
            client_id=client_id,
            language=language or None,
            case_id=case_id or None,
        )
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    return _redirect(draft.client_id)


@router.get("/fill/{client_id}")
def fill_page(
    request: Request, db: DbSession, settings: SettingsDep, user: Filler, client_id: ClientId
) -> Response:
    return _current(request, db, settings, user, client_id)


@router.post("/fill/{client_id}")
def fill(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: Filler,
    client_id: ClientId,
    pairs: Pairs,
) -> Response:
    action, posted = _first(pairs, "_action") or "next", _answers(pairs)
    verb, _sep, argument = action.partition(":")
    try:
        if verb in ("add", "remove"):
            # Rows change only on the page; nothing is saved until Next or Back.
            filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
            if verb == "add":
                return _render_page(request, db, user, filling, posted=posted, add_row=argument)
            group, _sep, index = argument.partition(":")
            row = int(index) if index.isdigit() else -1
            return _render_page(request, db, user, filling, posted=posted, remove_row=(group, row))
        if verb == "edit" and argument.isdigit():
            forms.go_to_page(
                db=db, settings=settings, user=user, client_id=client_id, page_index=int(argument)
            )
            return _moved(request, db, settings, user, client_id)
        if verb not in ("next", "back"):
            raise HTTPException(status_code=400)
        move: forms.Move = "next" if verb == "next" else "back"
        saved = forms.save_page(
            db=db, settings=settings, user=user, client_id=client_id, posted=posted, move=move
        )
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    if saved.errors:
        return _render_page(
            request,
            db,
            user,
            saved.filling,
            posted=posted,
            errors=saved.errors,
            status=422,
        )
    return _moved(request, db, settings, user, client_id)


@router.post("/fill/{client_id}/language")
def switch_language(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: Filler,
    client_id: ClientId,
    pairs: Pairs,
) -> Response:
    try:
        filling = forms.set_content_language(
            db=db,
            settings=settings,
            user=user,
            client_id=client_id,
            language=_first(pairs, "_language"),
        )
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    except ValueError:
        raise HTTPException(status_code=422) from None
    posted = _answers(pairs)
    # What was typed on the page is shown again, in the new language, not lost.
    return _render_page(request, db, user, filling, posted=posted if posted else None)


@router.post("/fill/{client_id}/submit")
def submit(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: Filler,
    client_id: ClientId,
    reviewed: Annotated[str, Form(alias="_reviewed", max_length=128)] = "",
    confirm_new: Annotated[str, Form(alias="_confirm_new", max_length=10)] = "",
) -> Response:
    try:
        # A filling of a case or an intake is submitted by intake.cases (its hooks).
        handled = hooks.current().submit(
            db=db,
            settings=settings,
            user=user,
            client_id=client_id,
            reviewed=reviewed,
            confirmed_new=bool(confirm_new),
        )
        if handled is not None:
            return _go(request, handled)
        submission = forms.submit_draft(
            db=db, settings=settings, user=user, client_id=client_id, reviewed=reviewed
        )
        following = hooks.current().after_submission(
            db=db, settings=settings, user=user, submission=submission
        )
    except hooks.ReviewAgain as exc:
        filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
        return _render_review(request, db, user, filling, status=409, message=str(exc))
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    except forms.FormInvalid:
        filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
        return _render_review(request, db, user, filling, status=422)
    except forms.AnswersChanged as exc:
        filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
        return _render_review(request, db, user, filling, status=409, message=str(exc))
    except forms.SubmissionConflict as exc:
        context = {"message": str(exc)}
        return web.render(
            request,
            "forms/conflict.html",
            context,
            status_code=409,
            block="filling",
        )
    if following:
        return _go(request, following)
    return _moved(request, db, settings, user, client_id)
