"""Referrals: an NGO refers a person to a municipality's service; what each side sees.

Canary values sit in a form that is not shared and in a note: they never appear in any
page the receiving or an unrelated organisation is shown. Runs on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation
from intake.audit.models import AuditEvent
from intake.cases.models import Case
from intake.db import utcnow
from intake.filling.models import Submission
from intake.referrals.models import Referral, ReferralForm
from tests.conftest import csrf_from
from tests.referrals.helpers import CONSENT, NOTE, SHARED_NAME, UNSHARED, World, sign_in, store


def refer(
    client: TestClient,
    token: str,
    case: Case,
    to: Organisation,
    service_key: str = "psychological_support",
    forms: tuple[str, ...] = ("first_contact",),
) -> Any:
    return client.post(
        f"/cases/{case.id}/referrals",
        data={
            "csrf_token": token,
            "organisation_id": to.id,
            "service": service_key,
            "forms": list(forms),
        },
    )


def referral_of(db: Session, case: Case) -> Referral:
    db.expire_all()
    return db.execute(select(Referral).where(Referral.case_id == case.id)).scalar_one()


def test_refer_accept_see_shared_only_withdraw_and_close(
    db: Session, client: TestClient, app: FastAPI, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["outreach_worker_a"])
    page = client.get(f"/cases/{world.case.id}/referrals/new")
    assert page.status_code == 200 and "Org B" in page.text and "Org A (" not in page.text
    assert refer(client, token, world.case, world.b).status_code == 303
    referral = referral_of(db, world.case)
    assert referral.status == "sent"
    assert "Waiting for an answer" in client.get(f"/cases/{world.case.id}").text

    token = sign_in(client, p["supervisor_b"])
    home = client.get("/")
    assert 'id="waiting-referrals">1<' in home.text
    listing = client.get("/referrals/incoming")
    assert referral.id in listing.text
    response = client.post(
        f"/referrals/{referral.id}/accept",
        data={"csrf_token": token, "assignee_id": p["outreach_worker_b"].id},
    )
    assert response.status_code == 303
    referral = referral_of(db, world.case)
    assert referral.status == "accepted" and referral.linked_case_id
    linked = db.get(Case, referral.linked_case_id)
    assert linked is not None and linked.organisation_id == world.b.id
    assert linked.owner_id == p["outreach_worker_b"].id

    # Two supervisors at once: the second is told, nothing changes.
    token2 = sign_in(client, p["supervisor2_b"])
    again = client.post(
        f"/referrals/{referral.id}/accept",
        data={"csrf_token": token2, "assignee_id": p["outreach_worker_b"].id},
    )
    assert again.status_code == 409 and "already answered" in again.text
    assert db.execute(select(Case).where(Case.organisation_id == world.b.id)).scalars().all() == [
        linked
    ]

    # The assigned worker sees the shared form (sensitive answer re-sealed), nothing else.
    sign_in(client, p["outreach_worker_b"])
    shown = client.get(f"/referrals/{referral.id}").text
    assert SHARED_NAME in shown
    assert UNSHARED not in shown and NOTE not in shown
    assert referral.id in client.get(f"/cases/{linked.id}").text
    for path in (f"/cases/{world.case.id}", f"/cases/{world.case.id}/referrals/new"):
        refused = client.get(path)
        assert (
            refused.status_code == 404 and UNSHARED not in refused.text and NOTE not in refused.text
        )
    probes = (
        db.execute(
            select(AuditEvent).where(
                AuditEvent.actor_id == p["outreach_worker_b"].id, AuditEvent.outcome == "refused"
            )
        )
        .scalars()
        .all()
    )
    assert len(probes) >= 2

    # The copy is sealed for its own row: the sender's token is not stored again.
    copy_answers = db.execute(select(ReferralForm.answers)).scalar_one()
    sent = db.execute(
        select(Submission.answers).where(Submission.form_key == "first_contact")
    ).scalar_one()
    assert copy_answers["given_name"] != sent["given_name"] and SHARED_NAME not in str(copy_answers)

    # Withdrawal: a newer consent without referral hides the shared forms at once.
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "consent_referral": False},
    )
    hidden = client.get(f"/referrals/{referral.id}").text
    assert SHARED_NAME not in hidden and "withdrawn consent" in hidden
    kinds = [
        e.action
        for e in db.execute(select(AuditEvent).where(AuditEvent.object_id == referral.id)).scalars()
    ]
    assert "referral.forms_viewed" in kinds and "referral.forms_withheld" in kinds

    # The receiving side closes it; the sender sees the outcome and the history.
    token = sign_in(client, p["supervisor_b"])
    assert (
        client.post(
            f"/referrals/{referral.id}/close",
            data={"csrf_token": token, "outcome": "not_delivered"},
        ).status_code
        == 422
    )
    closed = client.post(
        f"/referrals/{referral.id}/close", data={"csrf_token": token, "outcome": "delivered"}
    )
    assert closed.status_code == 303
    sign_in(client, p["outreach_worker_a"])
    page_a = client.get(f"/referrals/{referral.id}").text
    assert "Service delivered" in page_a and "Accepted" in page_a and SHARED_NAME not in page_a


def test_refusals_store_nothing(
    db: Session, client: TestClient, app: FastAPI, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    assert refer(client, token, world.case, world.a).status_code == 422
    assert "your own organisation" in refer(client, token, world.case, world.a).text
    db.execute(update(Organisation).where(Organisation.id == world.c.id).values(active=False))
    db.commit()
    assert "no longer active" in refer(client, token, world.case, world.c).text
    assert refer(client, token, world.case, world.b, service_key="flying").status_code == 422
    assert refer(client, token, world.case, world.b, forms=("guardian",)).status_code == 422
    assert db.execute(select(Referral)).first() is None
    assert refer(client, token, world.case, world.b).status_code == 303
    twice = refer(client, token, world.case, world.b)
    assert twice.status_code == 422 and "already has an open referral" in twice.text
    assert refer(client, token, world.case, world.b, service_key="housing").status_code == 303
    assert len(db.execute(select(Referral)).all()) == 2
    # No consent to referral: refused with the reason.
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "consent_referral": False},
    )
    refused = refer(client, token, world.case, world.b, service_key="legal_aid")
    assert refused.status_code == 422 and "consent to referral" in refused.text
    # A closed case cannot be referred.
    db.execute(update(Case).where(Case.id == world.case.id).values(closed_at=utcnow()))
    db.commit()
    assert "closed" in refer(client, token, world.case, world.b, service_key="education").text
    assert len(db.execute(select(Referral)).all()) == 2
    refusals = (
        db.execute(
            select(AuditEvent).where(
                AuditEvent.action == "referral.sent", AuditEvent.outcome == "refused"
            )
        )
        .scalars()
        .all()
    )
    assert len(refusals) >= 7


def test_sensitive_answers_only_when_consent_covers_the_kind(
    db: Session, client: TestClient, app: FastAPI, world: World
) -> None:
    p = world.people
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "sharing_with": ["ngos"]},
    )
    token = sign_in(client, p["outreach_worker_a"])
    assert refer(client, token, world.case, world.b).status_code == 303
    referral = referral_of(db, world.case)
    sign_in(client, p["supervisor_b"])
    page = client.get(f"/referrals/{referral.id}").text
    assert SHARED_NAME not in page and 'id="shared-forms"' in page


def test_decline_and_overdue(db: Session, client: TestClient, world: World) -> None:
    p = world.people
    token = sign_in(client, p["outreach_worker_a"])
    refer(client, token, world.case, world.b)
    referral = referral_of(db, world.case)
    db.execute(
        update(Referral)
        .where(Referral.id == referral.id)
        .values(created_at=utcnow() - dt.timedelta(days=6))
    )
    db.commit()
    assert "Overdue" in client.get(f"/cases/{world.case.id}").text
    token = sign_in(client, p["supervisor_b"])
    assert "Overdue" in client.get("/referrals/incoming").text
    assert (
        client.post(
            f"/referrals/{referral.id}/decline", data={"csrf_token": token, "reason": " "}
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/referrals/{referral.id}/decline", data={"csrf_token": token, "reason": "No places"}
        ).status_code
        == 303
    )
    sign_in(client, p["outreach_worker_a"])
    page = client.get(f"/referrals/{referral.id}").text
    assert "Declined" in page and "No places" in page and "Overdue" not in page
    # Declined: the service may be asked for again.
    assert refer(client, csrf_from(client.get("/").text), world.case, world.b).status_code == 303


# --- the access matrix: every new route x role x organisation ---------------------------------

ROLES = ("outreach_worker", "supervisor", "admin")


def _routes(world: World, referral_id: str, token: str) -> list[tuple[str, str, dict[str, Any]]]:
    case = world.case.id
    return [
        ("GET", f"/cases/{case}/referrals/new", {}),
        (
            "POST",
            f"/cases/{case}/referrals",
            {
                "csrf_token": token,
                "organisation_id": world.c.id,
                "service": "housing",
                "forms": ["urgent_needs"],
            },
        ),
        ("GET", "/referrals/incoming", {}),
        ("GET", f"/referrals/{referral_id}", {}),
        ("POST", f"/referrals/{referral_id}/decline", {"csrf_token": token, "reason": "x"}),
        ("POST", f"/referrals/{referral_id}/close", {"csrf_token": token, "outcome": "delivered"}),
        (
            "POST",
            f"/referrals/{referral_id}/accept",
            {"csrf_token": token, "assignee_id": "0" * 32},
        ),
    ]


def test_every_new_route_is_in_the_matrix(app: FastAPI) -> None:
    from intake.referrals.views import router
    from intake.security.permissions import iter_api_routes

    declared = {(m, r.path) for r in iter_api_routes(router.routes) for m in r.methods}
    assert len(declared) == 7


@pytest.mark.parametrize("who", [f"{r}_{s}" for r in ROLES for s in "abc"] + ["installation_admin"])
def test_access_matrix(db: Session, client: TestClient, world: World, who: str) -> None:
    p = world.people
    token = sign_in(client, p["outreach_worker_a"])
    refer(client, token, world.case, world.b)
    referral = referral_of(db, world.case)
    user = p[who]
    token = sign_in(client, user)
    role, _sep, side = who.rpartition("_")
    if who == "installation_admin":
        role, side = who, "x"
    for method, path, data in _routes(world, referral.id, token):
        response = client.get(path) if method == "GET" else client.post(path, data=data)
        assert UNSHARED not in response.text and NOTE not in response.text, (who, path)
        status = response.status_code
        if role in ("admin", "installation_admin"):
            assert status == 403, (who, path, status)
        elif path.endswith("/incoming"):
            # Only supervisors have an incoming list; only the receiving one lists it.
            assert status == (200 if role == "supervisor" else 403), (who, path, status)
            listed = side == "b" and role == "supervisor"
            assert (referral.id in response.text) == listed, (who, path)
        elif side == "c":
            assert status in (403, 404), (who, path, status)
            if status == 404 and "incoming" not in path:
                continue
        elif side == "b":
            if "/cases/" in path:
                assert status == 404, (who, path, status)
            elif role == "outreach_worker":
                # Not on the linked case (none yet): nothing of the referral exists for them.
                assert status in (403, 404), (who, path, status)
            else:
                assert status in (200, 303, 409, 422), (who, path, status)
        else:
            if path.endswith("/accept") or path.endswith("/decline") or path.endswith("incoming"):
                assert status in (403, 404), (who, path, status)
            else:
                assert status in (200, 303, 409, 422), (who, path, status)
    # An unrelated organisation's supervisor sees nothing in their incoming list.
    if side == "c" and role == "supervisor":
        assert referral.id not in client.get("/referrals/incoming").text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(guess=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-f]{32}", fullmatch=True)))
def test_guessed_referral_ids_are_404(
    db: Session, client: TestClient, world: World, guess: str
) -> None:
    if not hasattr(client, "_signed"):
        sign_in(client, world.people["supervisor_c"])
        client._signed = True  # type: ignore[attr-defined]
    if (
        not guess
        or "/" in guess
        or "?" in guess
        or "#" in guess
        or guess in (".", "..", "incoming")
    ):
        return
    response = client.get("/referrals/" + quote(guess, safe=""))
    assert response.status_code in (404, 422), (guess, response.status_code)
