"""Why a step is blocked, in plain words, with where to act.

A reason is a `str` (pages and tests that print it keep working) that also carries
the forms it is about and a link to the place on the case page where that form is
filled in or filled in again, when this stage offers it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from intake.cases.service_words import needs_more
from intake.i18n import get_locale
from intake.i18n import gettext as _
from intake.workflow.engine import Blocker


class BlockedReason(str):
    """A sentence saying what blocks a step; `forms`, `form_titles`, `href` say where to act
    and `link_text` what the link does ('' for the page's usual words)."""

    forms: tuple[str, ...]
    form_titles: tuple[str, ...]
    href: str | None
    explanation: str
    link_text: str

    def __new__(
        cls,
        text: str,
        *,
        forms: Sequence[str] = (),
        form_titles: Sequence[str] = (),
        href: str | None = None,
        explanation: str = "",
        link_text: str = "",
    ) -> BlockedReason:
        reason = super().__new__(cls, text)
        reason.forms = tuple(forms)
        reason.form_titles = tuple(form_titles)
        reason.href = href
        reason.explanation = explanation
        reason.link_text = link_text
        return reason


def form_href(form_key: str, stage_forms: Collection[str]) -> str | None:
    """The case page's place to fill `form_key` in, if this stage offers it."""
    return f"#stage-form-{form_key}" if form_key in stage_forms else None


def explanation_in(explain: Mapping[str, str] | None) -> str:
    """A condition's plain words in the reader's language, else in the first one written."""
    if not explain:
        return ""
    return explain.get(get_locale()) or next(iter(explain.values()))


def condition_reason(
    blocker: Blocker, *, title_of: Callable[[str], str], stage_forms: Collection[str]
) -> BlockedReason:
    """A condition not met: its explanation and the forms whose answers decide it."""
    titles = [title_of(key) for key in blocker.forms]
    explanation = explanation_in(blocker.explain)
    href = next((h for h in (form_href(k, stage_forms) for k in blocker.forms) if h), None)
    if explanation and titles:
        text = _(
            "%(explanation)s (answers of: %(forms)s)",
            explanation=explanation,
            forms=", ".join(titles),
        )
    elif explanation:
        text = explanation
    elif titles:
        text = _(
            "The answers recorded in these forms do not allow this step yet: %(forms)s",
            forms=", ".join(titles),
        )
    else:
        text = _("The answers recorded in this case do not allow this step yet")
    return BlockedReason(
        text, forms=blocker.forms, form_titles=titles, href=href, explanation=explanation
    )


def form_reason(
    blocker: Blocker, *, title_of: Callable[[str], str], stage_forms: Collection[str]
) -> BlockedReason:
    """A form not filled in yet, with the place to fill it in."""
    key = blocker.subject or ""
    title = title_of(key)
    return BlockedReason(
        _("Needs: %(form)s form", form=title),
        forms=(key,),
        form_titles=(title,),
        href=form_href(key, stage_forms),
    )


def services_reason(blocker: Blocker) -> BlockedReason:
    """Services still to be given ('Needs 1 more psychological session'), with the place to
    record them."""
    return BlockedReason(
        needs_more(blocker.subject or "", blocker.missing),
        href="#services",
        link_text=_("Record services given"),
    )
