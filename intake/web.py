"""Templates: one Jinja2 environment, the whole page or one block for htmx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block

from intake import i18n
from intake.security import csrf
from intake.security.permissions import has_permission
from intake.static_assets import static_url

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def role_label(role: str) -> str:
    """A role's name in the reader's language."""
    labels = {
        "outreach_worker": i18n.gettext("Outreach worker"),
        "supervisor": i18n.gettext("Supervisor"),
        "admin": i18n.gettext("Administrator"),
        "installation_admin": i18n.gettext("Installation administrator"),
        "coordinator": i18n.gettext("Coordinator"),
    }
    return labels.get(role, role)


def kind_label(kind: str) -> str:
    """A kind of organisation in the reader's language."""
    labels = {
        "ngo": i18n.gettext("Non-governmental organisation"),
        "municipality": i18n.gettext("Municipality"),
        "shelter": i18n.gettext("Shelter"),
        "other": i18n.gettext("Other"),
        "coordination": i18n.gettext("Coordinating body"),
    }
    return labels.get(kind, kind)


def make_environment() -> Environment:
    """The Jinja2 environment with gettext and Babel formatting installed."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.gettext(message),
        lambda singular, plural, n: i18n.translations_for(i18n.get_locale()).ungettext(
            singular, plural, n
        ),
        newstyle=True,
    )
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["number"] = i18n.format_number
    env.globals["LANGUAGES"] = i18n.LANGUAGE_NAMES
    env.globals["text_direction"] = i18n.direction
    env.globals["has_permission"] = has_permission
    env.globals["role_label"] = role_label
    env.globals["kind_label"] = kind_label
    env.globals["static_url"] = static_url
    return env


ENVIRONMENT = make_environment()


def is_htmx(request: Request) -> bool:
    """Whether htmx sent this request (and wants only a block back)."""
    return request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """The whole page, or only `block` when htmx asks for it."""
    settings = request.app.state.settings
    full = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf.token_for(request, settings),
        "locale": i18n.get_locale(),
        **(context or {}),
    }
    tmpl = ENVIRONMENT.get_template(template)
    if block and is_htmx(request):
        html = render_block(ENVIRONMENT, template, block, full)
    else:
        html = tmpl.render(full)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    new_presession = getattr(request.state, "new_presession", None)
    if new_presession:
        response.set_cookie(
            csrf.presession_cookie_name(settings),
            new_presession,
            httponly=True,
            secure=settings.cookie_secure,
            samesite="lax",
            path="/",
        )
    return response
