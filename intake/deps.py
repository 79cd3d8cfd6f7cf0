"""The route dependencies, declared once: the session, the settings, the signed-in user
with the permission a route needs, and the case a user may see (else 404, audited).

A role alias stands for one entry of the permission map (intake.security.permissions);
the same alias is the same dependency, so a route naming a user and a case
authenticates once.
"""

# No `from __future__ import annotations`: visible_case's dependency names its guard in
# an annotation that FastAPI must see evaluated (a closure variable).

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import access
from intake.cases.models import Case
from intake.config import Settings
from intake.db import DbSession as DbSession
from intake.security.permissions import Permission, require

__all__ = [
    "AccountsOverseer",
    "CaseAdvancer",
    "CaseViewer",
    "CurrentUser",
    "DashboardViewer",
    "DbSession",
    "DefinitionsEditor",
    "DefinitionsViewer",
    "Filler",
    "OrganisationAdmin",
    "OwnAccount",
    "PasswordOwner",
    "SettingsDep",
    "StatisticsReader",
    "TeamAssigner",
    "UserAdmin",
    "VisibleCase",
    "find_case",
    "get_settings",
    "visible_case",
]


def get_settings(request: Request) -> Settings:
    """The settings the application was made with."""
    settings: Settings = request.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    # Async, so that FastAPI asks no worker thread for it.
    return get_settings(request)


SettingsDep = Annotated[Settings, Depends(_settings)]

# One guard per permission, so that every alias of a permission is one dependency.
_GUARDS = {permission: require(permission) for permission in Permission}


OwnAccount = Annotated[User, Depends(_GUARDS[Permission.OWN_ACCOUNT])]
# Any signed-in user (every role manages its own account).
CurrentUser = OwnAccount
# Changing a one-time password (and signing out) is open before it is changed.
PasswordOwner = Annotated[
    User, Depends(require(Permission.OWN_ACCOUNT, while_password_change_pending=True))
]
UserAdmin = Annotated[User, Depends(_GUARDS[Permission.USERS_MANAGE])]
OrganisationAdmin = Annotated[User, Depends(_GUARDS[Permission.ORGANISATIONS_MANAGE])]
AccountsOverseer = Annotated[User, Depends(_GUARDS[Permission.ACCOUNTS_OVERSEE])]
Filler = Annotated[User, Depends(_GUARDS[Permission.CASES_CREATE])]
CaseViewer = Annotated[User, Depends(_GUARDS[Permission.CASES_VIEW])]
CaseAdvancer = Annotated[User, Depends(_GUARDS[Permission.CASES_ADVANCE])]
TeamAssigner = Annotated[User, Depends(_GUARDS[Permission.TEAM_ASSIGN])]
DashboardViewer = Annotated[User, Depends(_GUARDS[Permission.DASHBOARD_VIEW])]
DefinitionsViewer = Annotated[User, Depends(_GUARDS[Permission.DEFINITIONS_VIEW])]
DefinitionsEditor = Annotated[User, Depends(_GUARDS[Permission.DEFINITIONS_EDIT])]
# Anonymised figures (intake.statistics): a coordinator's across organisations, a supervisor's own.
StatisticsReader = Annotated[User, Depends(_GUARDS[Permission.STATISTICS_VIEW])]

_OPAQUE_ID = re.compile(r"[0-9a-f]{32}")


def find_case(*, db: Session, user: User, case_id: str, action: str, refresh: bool = False) -> Case:
    """The case if `user` may see it; otherwise the probe is audited and answered 404."""
    try:
        return access.get_visible_case(db=db, user=user, case_id=case_id, refresh=refresh)
    except access.CaseNotFound:
        # A malformed id is not copied into the trail.
        shown = case_id if _OPAQUE_ID.fullmatch(case_id) else ""
        access.record_unseen(db=db, user=user, case_id=shown, action=action)
        raise HTTPException(status_code=404) from None


def visible_case(
    action: str, permission: Permission = Permission.CASES_VIEW
) -> Callable[..., Case]:
    """A dependency: the path's case as `user` may see it, for `action` (audited if refused)."""

    def dependency(
        db: DbSession, user: Annotated[User, Depends(_GUARDS[permission])], case_id: str
    ) -> Case:
        return find_case(db=db, user=user, case_id=case_id, action=action)

    return dependency


VisibleCase = Annotated[Case, Depends(visible_case("case.viewed"))]
