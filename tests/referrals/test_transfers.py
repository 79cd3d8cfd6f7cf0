"""Transfers: a supervisor hands a case over; on accept responsibility and access move.

Canary values sit in a note (never moves) and in sensitive answers (move only when the
consent covers sharing with the receiving kind). Runs on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.cases.models import Case, CaseHistory, CaseTeamMember
from intake.db import utcnow
from intake.filling.models import Submission
from intake.referrals.models import Referral, Transfer
from intake.security.models import UserSession
from tests.referrals.helpers import CONSENT, NOTE, SHARED_NAME, UNSHARED, World, sign_in, store


def offer(client: TestClient, token: str, case: Case, to: Organisation) -> Any:
    return client.post(
        f"/cases/{case.id}/transfer", data={"csrf_token": token, "organisation_id": to.id}
    )


def transfer_of(db: Session, case: Case) -> Transfer:
    db.expire_all()
    return (
        db.execute(
            select(Transfer).where(Transfer.case_id == case.id).order_by(Transfer.created_at.desc())
        )
        .scalars()
        .first()
    )  # type: ignore[return-value]


def transfers(db: Session) -> int:
    return len(db.execute(select(Transfer.id)).all())


def page_text(response: Any) -> str:
    return BeautifulSoup(response.text, "html.parser").get_text(" ")


def test_transfer_moves_the_case_and_leaves_a_stub(
    db: Session, client: TestClient, world: World
) -> None:
    p = world.people
    case = world.case
    db.add(
        CaseTeamMember(case_id=case.id, user_id=p["outreach_worker_a"].id, function="social_worker")
    )
    db.commit()
    token = sign_in(client, p["supervisor_a"])
    form = client.get(f"/cases/{case.id}/transfer")
    assert form.status_code == 200 and "Org B" in form.text
    sent = offer(client, token, case, world.b)
    assert sent.status_code == 303
    transfer = transfer_of(db, case)
    assert sent.headers["location"] == f"/transfers/{transfer.id}"
    # Nothing moves before an answer: the sender still works on the case.
    assert client.get(f"/cases/{case.id}").status_code == 200

    token_b = sign_in(client, p["supervisor_b"])
    listing = BeautifulSoup(client.get("/referrals/incoming").text, "html.parser")
    assert listing.select_one(f'[data-transfer="{transfer.id}"]') is not None
    # The receiving side sees the offer, not the case.
    offer_page = client.get(f"/transfers/{transfer.id}")
    assert offer_page.status_code == 200
    assert SHARED_NAME not in offer_page.text and NOTE not in offer_page.text
    assert f'href="/cases/{case.id}"' not in offer_page.text
    assert client.get(f"/cases/{case.id}").status_code == 404
    accepted = client.post(
        f"/transfers/{transfer.id}/accept",
        data={"csrf_token": token_b, "assignee_id": p["outreach_worker_b"].id},
    )
    assert accepted.status_code == 303

    # A second supervisor answering at once: told, nothing changes.
    token_b2 = sign_in(client, p["supervisor2_b"])
    again = client.post(
        f"/transfers/{transfer.id}/decline", data={"csrf_token": token_b2, "reason": "late"}
    )
    assert again.status_code == 409 and "already answered" in again.text

    db.expire_all()
    moved = db.get(Case, case.id)
    assert moved is not None and moved.organisation_id == world.b.id
    assert moved.owner_id == p["outreach_worker_b"].id
    assert (
        db.execute(
            select(CaseTeamMember).where(
                CaseTeamMember.case_id == case.id, CaseTeamMember.removed_at.is_(None)
            )
        ).first()
        is None
    )
    kinds = db.execute(select(CaseHistory.kind).where(CaseHistory.case_id == case.id)).scalars()
    assert "transferred" in set(kinds)

    # The receiving organisation sees the case with the forms, not the sender's note.
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert SHARED_NAME in page.text and NOTE not in page.text
    assert "Case transferred to this organisation" in page_text(page)

    # The sender keeps the stub: reference, dates, "transferred to", nothing else.
    sign_in(client, p["supervisor_a"])
    stub = client.get(f"/transfers/{transfer.id}")
    words = page_text(stub)
    assert stub.status_code == 200 and case.reference in words and "Transferred to Org B" in words
    assert SHARED_NAME not in stub.text and UNSHARED not in stub.text and NOTE not in stub.text
    assert f'href="/cases/{case.id}"' not in stub.text
    for who in ("supervisor_a", "outreach_worker_a"):
        sign_in(client, p[who])
        gone = client.get(f"/cases/{case.id}")
        assert gone.status_code == 404 and SHARED_NAME not in gone.text
    refused = db.execute(
        select(AuditEvent).where(
            AuditEvent.object_id == case.id,
            AuditEvent.outcome == "refused",
            AuditEvent.actor_id == p["outreach_worker_a"].id,
        )
    ).first()
    assert refused is not None


def test_sensitive_answers_stay_when_consent_does_not_cover_the_kind(
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
    token = sign_in(client, p["supervisor_a"])
    assert offer(client, token, world.case, world.b).status_code == 303
    transfer = transfer_of(db, world.case)
    token = sign_in(client, p["supervisor_b"])
    client.post(
        f"/transfers/{transfer.id}/accept",
        data={"csrf_token": token, "assignee_id": p["supervisor_b"].id},
    )
    transfer = transfer_of(db, world.case)
    assert transfer.status == "accepted" and transfer.forms_without_sensitive >= 1
    page = client.get(f"/cases/{world.case.id}")
    assert page.status_code == 200 and SHARED_NAME not in page.text
    # The full filling stays with the sender, outside every case.
    kept = db.execute(
        select(Submission).where(
            Submission.form_key == "first_contact", Submission.organisation_id == world.a.id
        )
    ).scalar_one()
    assert kept.case_id is None


def test_refusals_store_nothing(
    db: Session, client: TestClient, app: FastAPI, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    own = offer(client, token, world.case, world.a)
    assert own.status_code == 422 and "your own organisation" in own.text
    db.execute(update(Organisation).where(Organisation.id == world.c.id).values(active=False))
    db.commit()
    assert "no longer active" in offer(client, token, world.case, world.c).text
    made_up = client.post(
        f"/cases/{world.case.id}/transfer", data={"csrf_token": token, "organisation_id": "ø" * 70}
    )
    assert made_up.status_code == 422
    # An open referral first: closed before the case may leave.
    db.add(
        Referral(
            case_id=world.case.id,
            from_organisation_id=world.a.id,
            to_organisation_id=world.b.id,
            service="housing",
            open_service="housing",
            status="sent",
            created_by_id=p["supervisor_a"].id,
        )
    )
    db.commit()
    assert "open referrals" in offer(client, token, world.case, world.b).text
    db.execute(text("DELETE FROM referrals"))
    db.commit()
    assert transfers(db) == 0
    assert offer(client, token, world.case, world.b).status_code == 303
    twice = offer(client, token, world.case, world.b)
    assert twice.status_code == 422 and "already waits" in twice.text
    assert transfers(db) == 1
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "consent_referral": False},
    )
    db.execute(update(Transfer).values(open_case_id=None, status="declined"))
    db.commit()
    no_consent = offer(client, token, world.case, world.b)
    assert no_consent.status_code == 422 and "consent to referral" in no_consent.text
    db.execute(update(Case).where(Case.id == world.case.id).values(closed_at=utcnow()))
    db.commit()
    assert "closed" in offer(client, token, world.case, world.b).text
    assert transfers(db) == 1
    refusals = db.execute(
        select(AuditEvent).where(
            AuditEvent.action == "transfer.sent", AuditEvent.outcome == "refused"
        )
    ).all()
    assert len(refusals) >= 6


def test_decline_keeps_the_case_and_a_withdrawn_consent_stops_the_accept(
    db: Session, client: TestClient, app: FastAPI, world: World
) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    offer(client, token, world.case, world.b)
    transfer = transfer_of(db, world.case)
    token = sign_in(client, p["supervisor_b"])
    blank = client.post(
        f"/transfers/{transfer.id}/decline", data={"csrf_token": token, "reason": " "}
    )
    assert blank.status_code == 422 and "Say why" in blank.text
    no_one = client.post(
        f"/transfers/{transfer.id}/accept",
        data={"csrf_token": token, "assignee_id": p["supervisor_a"].id},
    )
    assert no_one.status_code == 422
    declined = client.post(
        f"/transfers/{transfer.id}/decline", data={"csrf_token": token, "reason": "No places left"}
    )
    assert declined.status_code == 303
    sign_in(client, p["supervisor_a"])
    stub = page_text(client.get(f"/transfers/{transfer.id}"))
    assert "Declined" in stub and "No places left" in stub
    assert db.get(Case, world.case.id).organisation_id == world.a.id  # type: ignore[union-attr]

    # Offered again, then the person withdraws consent before the answer: nothing moves.
    token = csrf_from_home(client)
    assert offer(client, token, world.case, world.b).status_code == 303
    second = transfer_of(db, world.case)
    store(
        db,
        app.state.settings,
        world.case,
        "consent",
        p["outreach_worker_a"],
        {**CONSENT, "consent_referral": False},
    )
    token = sign_in(client, p["supervisor_b"])
    stopped = client.post(
        f"/transfers/{second.id}/accept",
        data={"csrf_token": token, "assignee_id": p["outreach_worker_b"].id},
    )
    assert stopped.status_code == 422 and "consent to referral" in stopped.text
    db.expire_all()
    assert db.get(Case, world.case.id).organisation_id == world.a.id  # type: ignore[union-attr]


def csrf_from_home(client: TestClient) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client.get("/").text)


def test_offering_needs_a_fresh_proof_of_identity(
    db: Session, client: TestClient, world: World
) -> None:
    user: User = world.people["supervisor_a"]
    token = sign_in(client, user)
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=utcnow() - dt.timedelta(hours=1), last_seen_at=utcnow())
    )
    db.execute(text("DELETE FROM reauthentications"))
    db.commit()
    asked = client.get(f"/cases/{world.case.id}/transfer", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/account/reauth")
    posted = offer(client, token, world.case, world.b)
    assert posted.status_code in (303,) and "/account/reauth" in posted.headers["location"]
    assert transfers(db) == 0


# --- the access matrix: every transfer route x role x organisation ----------------------------

ROLES = ("outreach_worker", "supervisor", "admin")


def _routes(world: World, transfer_id: str, token: str) -> list[tuple[str, str, dict[str, Any]]]:
    case = world.case.id
    return [
        ("GET", f"/cases/{case}/transfer", {}),
        ("POST", f"/cases/{case}/transfer", {"csrf_token": token, "organisation_id": world.c.id}),
        ("GET", f"/transfers/{transfer_id}", {}),
        ("POST", f"/transfers/{transfer_id}/decline", {"csrf_token": token, "reason": ""}),
        (
            "POST",
            f"/transfers/{transfer_id}/accept",
            {"csrf_token": token, "assignee_id": "0" * 32},
        ),
    ]


def test_every_transfer_route_is_in_the_matrix() -> None:
    from intake.referrals.transfer_views import router
    from intake.security.permissions import iter_api_routes

    declared = {(m, r.path) for r in iter_api_routes(router.routes) for m in r.methods}
    assert len(declared) == 5


@pytest.mark.parametrize("who", [f"{r}_{s}" for r in ROLES for s in "abc"] + ["installation_admin"])
def test_access_matrix(db: Session, client: TestClient, world: World, who: str) -> None:
    p = world.people
    token = sign_in(client, p["supervisor_a"])
    offer(client, token, world.case, world.b)
    transfer = transfer_of(db, world.case)
    token = sign_in(client, p[who])
    role, _sep, side = who.rpartition("_")
    if who == "installation_admin":
        role, side = who, "x"
    for method, path, data in _routes(world, transfer.id, token):
        response = client.get(path) if method == "GET" else client.post(path, data=data)
        assert NOTE not in response.text and SHARED_NAME not in response.text, (who, path)
        status = response.status_code
        if role != "supervisor":
            # Only supervisors transfer and answer transfers.
            assert status == 403, (who, path, status)
        elif side == "c":
            assert status == 404, (who, path, status)
        elif side == "b":
            expected = 404 if "/cases/" in path else (200 if method == "GET" else 422)
            assert status == expected, (who, path, status)
        elif "/cases/" in path:
            # The sender: the form, and a second offer refused while one waits.
            assert status == (200 if method == "GET" else 422), (who, path, status)
        else:
            # The sender sees the stub and cannot answer its own offer.
            assert status == (200 if method == "GET" else 404), (who, path, status)
    db.expire_all()
    assert db.get(Case, world.case.id).organisation_id == world.a.id  # type: ignore[union-attr]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(guess=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-f]{32}", fullmatch=True)))
def test_guessed_transfer_ids_are_404(
    db: Session, client: TestClient, world: World, guess: str
) -> None:
    if not hasattr(client, "_signed"):
        sign_in(client, world.people["supervisor_c"])
        client._signed = True  # type: ignore[attr-defined]
    if not guess or any(c in guess for c in "/?#") or guess in (".", ".."):
        return
    response = client.get("/transfers/" + quote(guess, safe=""))
    assert response.status_code in (404, 422), (guess, response.status_code)
