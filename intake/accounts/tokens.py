"""Personal access tokens: made by a user for the JSON API, never wider than the user.

A token carries scopes; each scope stands for one permission of the map
(intake.security.permissions), so a token only ever narrows what its user's role
allows, and every request also passes the same scoped queries as the pages. The
secret is shown once; only its SHA-256 is stored, as for sessions. A token is dead
when revoked, expired, or when its user is disabled or holds a one-time password.

Every use is audited by token id and route pattern (no personal data); a token's
requests are counted per minute; unknown secrets count as failed sign-ins of the
client address (intake.accounts.signin), which blocks a guessing client.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts import signin
from intake.accounts.models import User
from intake.accounts.token_models import ApiToken
from intake.audit import service as audit
from intake.config import Settings
from intake.db import read_transaction, utcnow, write_transaction
from intake.i18n import gettext as _
from intake.security.permissions import Permission, has_permission
from intake.security.sessions import hash_token

PREFIX = "itk_"
# Scope -> the permission of the map it stands for.
SCOPES: dict[str, Permission] = {
    "submissions:write": Permission.CASES_CREATE,
    "cases:read": Permission.CASES_VIEW,
    # The anonymised figures of intake.statistics (a coordinator's, a supervisor's own).
    "statistics:read": Permission.STATISTICS_VIEW,
}
LIFETIMES_DAYS = (7, 30, 90, 365)
MAX_LIVE_TOKENS = 20
NAME_LENGTH = 80
REQUESTS_PER_MINUTE = 120
_WINDOW = dt.timedelta(minutes=1)


def scope_label(scope: str) -> str:
    """A scope's meaning in the reader's language."""
    labels = {
        "submissions:write": _("Submit forms"),
        "cases:read": _("Read the cases you may see"),
        "statistics:read": _("Read statistics"),
    }
    return labels.get(scope, scope)


class TokenError(ValueError):
    """A token cannot be made as asked; the message says why, in the reader's language."""


class TokenNotFound(LookupError):
    """No token with this id belongs to this user."""


class TokenRefused(Exception):
    """A request's token does not let it through; `reason` names why (for the status code)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Issued:
    """A new token and its secret, which is shown once and never stored."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: the token's user, within the token's scopes."""

    user: User
    token_id: str
    scopes: frozenset[str]


def scopes_for(user: User) -> list[str]:
    """The scopes this user's role allows (an administrator's: none)."""
    return [scope for scope, permission in SCOPES.items() if has_permission(user, permission)]


def _clean_name(name: str) -> str:
    cleaned = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not cleaned:
        raise TokenError(_("Give the token a name, so that you recognise it later."))
    if len(cleaned) > NAME_LENGTH:
        raise TokenError(_("The name is too long (at most %(n)s characters).", n=NAME_LENGTH))
    return cleaned


def create_token(*, db: Session, user: User, name: str, scopes: list[str], days: int) -> Issued:
    """Make a token for `user` with scopes its role allows; commits. TokenError if not."""
    cleaned = _clean_name(name)
    chosen = sorted(set(scopes))
    allowed = scopes_for(user)
    if not chosen:
        raise TokenError(_("Choose at least one scope."))
    if any(scope not in allowed for scope in chosen):
        raise TokenError(_("Your role does not allow one of the chosen scopes."))
    if days not in LIFETIMES_DAYS:
        raise TokenError(_("Choose how long the token stays valid."))
    now = utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    with write_transaction(db):
        live = db.execute(
            select(func.count(ApiToken.id)).where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
            )
        ).scalar_one()
        if live >= MAX_LIVE_TOKENS:
            raise TokenError(_("You have %(n)s valid tokens: revoke one first.", n=MAX_LIVE_TOKENS))
        token = ApiToken(
            user_id=user.id,
            name=cleaned,
            token_hash=hash_token(secret),
            scopes=" ".join(chosen),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        db.add(token)
        db.flush()
        audit.record(
            db=db,
            action="api_token.created",
            actor_id=user.id,
            object_type="api_token",
            object_id=token.id,
            detail=token.scopes,
        )
    return Issued(token=token, secret=secret)


def list_tokens(*, db: Session, user: User) -> list[ApiToken]:
    """The user's own tokens, newest first (revoked and expired ones too, for the record)."""
    with read_transaction(db):
        return list(
            db.execute(
                select(ApiToken)
                .where(ApiToken.user_id == user.id)
                .order_by(ApiToken.created_at.desc(), ApiToken.id)
                .limit(100)
            ).scalars()
        )


def revoke_token(*, db: Session, user: User, token_id: str) -> ApiToken:
    """Revoke one of the user's own tokens at once; commits. TokenNotFound for anyone else's."""
    with write_transaction(db):
        token = db.execute(
            select(ApiToken)
            .where(ApiToken.id == token_id[:32], ApiToken.user_id == user.id)
            .with_for_update()
        ).scalar_one_or_none()
        if token is None:
            raise TokenNotFound
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record(
                db=db,
                action="api_token.revoked",
                actor_id=user.id,
                object_type="api_token",
                object_id=token.id,
            )
    return token


def is_live(token: ApiToken, now: dt.datetime) -> bool:
    """Whether the token still opens the API (not revoked, not expired)."""
    return token.revoked_at is None and token.expires_at > now


def _dead_reason(token: ApiToken, user: User | None, now: dt.datetime) -> str | None:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    if user is None or not user.active or not user.organisation.active:
        return "disabled"
    if user.must_change_password:
        return "disabled"
    return None


def _lookup(db: Session, secret: str | None) -> tuple[ApiToken, User | None] | None:
    if not secret or len(secret) > 100 or not secret.isascii() or not secret.startswith(PREFIX):
        return None
    with read_transaction(db):
        token = db.execute(
            select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
        ).scalar_one_or_none()
        if token is None:
            return None
        user = db.get(User, token.user_id)
        if user is not None:
            user.organisation  # noqa: B018 - loaded now, read after the transaction
    return token, user


def authenticate(
    *,
    db: Session,
    settings: Settings,
    secret: str | None,
    client_address: str,
    scope: str | None,
    permission: Permission,
    action: str,
) -> Caller:
    """The caller a request's token stands for, if it may use this route; audited either way.

    `scope` is the scope the route needs (None: any scope), `permission` the permission of
    the map, `action` the route's method and pattern (named in the audit row).
    Raises TokenRefused with the reason: missing, unknown, revoked, expired, disabled, blocked,
    scope, permission or rate."""
    if not secret:
        raise TokenRefused("missing")  # no token at all is no use of one: nothing to count
    found = _lookup(db, secret)
    now = utcnow()
    if found is None:
        _refuse_unknown(db=db, settings=settings, client_address=client_address, action=action)
    token, user = found
    reason = _dead_reason(token, user, now)
    if reason is None and scope is not None and scope not in token.scopes.split():
        reason = "scope"
    if reason is None and user is not None and not has_permission(user, permission):
        reason = "permission"
    with write_transaction(db):
        row = db.execute(
            select(ApiToken).where(ApiToken.id == token.id).with_for_update()
        ).scalar_one()
        if reason is None:
            reason = _count_request(row, now)
        audit.record(
            db=db,
            action="api.request",
            actor_id=token.user_id,
            object_type="api_token",
            object_id=token.id,
            outcome="ok" if reason is None else "refused",
            detail=action if reason is None else f"{action} ({reason})",
        )
    if reason is not None or user is None:
        raise TokenRefused(reason or "disabled")
    return Caller(user=user, token_id=token.id, scopes=frozenset(token.scopes.split()))


def _count_request(row: ApiToken, now: dt.datetime) -> str | None:
    """One more request in the token's minute; "rate" once the minute's share is spent."""
    if row.window_start is None or now - row.window_start >= _WINDOW:
        row.window_start, row.window_count = now, 0
    if row.window_count >= REQUESTS_PER_MINUTE:
        return "rate"
    row.window_count += 1
    row.last_used_at = now
    return None


def _refuse_unknown(
    *, db: Session, settings: Settings, client_address: str, action: str
) -> NoReturn:
    """An unknown secret: counted against the client address like a failed sign-in."""
    now = utcnow()
    key = signin.client_key(settings, client_address)
    with write_transaction(db):
        blocked = signin._client_blocked(db=db, settings=settings, key=key, now=now)
        signin._count_client_failure(db=db, settings=settings, key=key, now=now)
        audit.record(
            db=db,
            action="api.request",
            object_type="api_token",
            outcome="refused",
            detail=f"{action} (unknown)",
        )
    raise TokenRefused("blocked" if blocked else "unknown")


def retry_after_seconds(reason: str, settings: Settings) -> int:
    """How long a refused caller should wait before trying again."""
    if reason == "blocked":
        return settings.login_client_window_minutes * 60
    return int(_WINDOW.total_seconds())
