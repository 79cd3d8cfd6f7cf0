"""External bodies and safe-return referrals: registered by administrators, referred to with
the return consent, a printed summary in the body's language with the allowed fields only.

The summary test uses canary values in a sensitive answer of the safe-return plan, in other
forms and in a note: none may appear in the printed text. Runs on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from intake.audit.models import AuditEvent
from intake.db import utcnow
from intake.referrals.models import ExternalBody, ReturnReferral
from intake.security.models import UserSession
from tests.referrals.helpers import CONSENT, NOTE, SHARED_NAME, UNSHARED, World, sign_in, store

PLAIN = "Allowedreception" + "Kq"
RISK = "Riskcanary" + "Zz"
CONTACT = "Sender desk +370 600 00000"
RETURN_CONSENT = {**CONSENT, "consent_return": "yes"}


def register(client: TestClient, token: str, **fields: str) -> Any:
    data = {
        "csrf_token": token,
        "name": "Ministry of Social Policy",
        "kind": "consulate",
        "country": "UA",
        "languages": "ru, uk",
        "contact": "Kyiv, +380 44 000 0000",
        **fields,
    }
    return client.post("/external-bodies", data=data)


def body_of(db: Session, name: str = "Ministry of Social Policy") -> ExternalBody:
    db.expire_all()
    return db.execute(select(ExternalBody).where(ExternalBody.name == name)).scalar_one()


@pytest.fixture
def returning(db: Session, app: FastAPI, world: World) -> World:
    settings, worker = app.state.settings, world.people["outreach_worker_a"]
    store(db, settings, world.case, "consent", worker, RETURN_CONSENT)
    store(
        db,
        settings,
        world.case,
        "safe_return_plan",
        worker,
        {
            "return_country": "ukraine",
            "wants_to_return": True,
            "risk_level": "low",
            "risk_reasons": RISK,
            "receiving_organisation": PLAIN,
            "documents_ready": True,
        },
    )
    return world


def refer_return(client: TestClient, token: str, world: World, body: ExternalBody) -> Any:
    return client.post(
        f"/cases/{world.case.id}/returns",
        data={"csrf_token": token, "body_id": body.id, "sending_contact": CONTACT},
    )


def test_administrators_register_bodies_and_bad_input_stores_nothing(
    db: Session, client: TestClient, world: World
) -> None:
    token = sign_in(client, world.people["admin_a"])
    for bad, message in (
        ({"name": " "}, "name"),
        ({"country": "Ukraine"}, "two letters"),
        ({"languages": "klingon"}, "languages"),
        ({"kind": "spaceship"}, "kind"),
        ({"contact": "x" * 2001}, "2,000"),
        ({"contact": "a\x00b"}, "2,000"),
        ({"name": "Mini\x00stry"}, "name"),
    ):
        response = register(client, token, **bad)
        assert response.status_code == 422 and message in response.text, bad
    assert db.execute(select(ExternalBody)).first() is None
    assert register(client, token, country="ua").status_code == 303
    body = body_of(db)
    assert body.country == "UA" and body.languages == ["ru", "uk"]
    assert body.organisation_id == world.a.id
    page = client.get("/external-bodies")
    assert "Ministry of Social Policy" in page.text
    # Another organisation's administrator sees none of them and cannot change them.
    token = sign_in(client, world.people["admin_b"])
    assert "Ministry of Social Policy" not in client.get("/external-bodies").text
    off = client.post(
        f"/external-bodies/{body.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert off.status_code == 404 and body_of(db).active


def test_a_printed_summary_in_russian_carries_only_the_allowed_fields(
    db: Session, client: TestClient, returning: World
) -> None:
    world = returning
    token = sign_in(client, world.people["admin_a"])
    register(client, token)
    body = body_of(db)
    token = sign_in(client, world.people["supervisor_a"])
    made = refer_return(client, token, world, body)
    assert made.status_code == 303
    referral = db.execute(select(ReturnReferral)).scalar_one()
    assert referral.language == "ru"
    printed = client.get(f"/returns/{referral.id}/summary")
    assert printed.status_code == 200
    soup = BeautifulSoup(printed.text, "html.parser")
    assert soup.html is not None and soup.html.get("lang") == "ru"
    words = soup.select_one("#return-summary").get_text(" ")  # type: ignore[union-attr]
    assert world.case.reference in words and CONTACT in words
    # The plan's plain answers, with the form's own labels and choices in Russian.
    assert "Хочет ли человек вернуться?" in words and "Украина" in words
    # Its free-text (sealed) answers do not go to a consulate: the consent names no such kind.
    for canary in (RISK, PLAIN, SHARED_NAME, UNSHARED, NOTE):
        assert canary not in printed.text, canary
    audited = db.execute(
        select(AuditEvent).where(
            AuditEvent.action == "return_referral.printed", AuditEvent.object_id == referral.id
        )
    ).all()
    assert len(audited) == 1
    client.get(f"/returns/{referral.id}/summary")
    assert (
        len(
            db.execute(
                select(AuditEvent).where(AuditEvent.action == "return_referral.printed")
            ).all()
        )
        == 2
    )


def test_sensitive_answers_go_only_when_the_consent_covers_that_kind_of_body(
    db: Session, client: TestClient, returning: World
) -> None:
    world = returning
    token = sign_in(client, world.people["admin_a"])
    # A ministry counts as municipal social services, which the consent allows.
    register(client, token, name="Ministry", kind="ministry")
    token = sign_in(client, world.people["supervisor_a"])
    refer_return(client, token, world, body_of(db, "Ministry"))
    referral = db.execute(select(ReturnReferral)).scalar_one()
    printed = client.get(f"/returns/{referral.id}/summary").text
    assert RISK in printed and PLAIN in printed
    assert SHARED_NAME not in printed and NOTE not in printed


def test_no_return_consent_no_referral_and_no_summary(
    db: Session, client: TestClient, app: FastAPI, returning: World
) -> None:
    world = returning
    token = sign_in(client, world.people["admin_a"])
    register(client, token)
    body = body_of(db)
    token = sign_in(client, world.people["supervisor_a"])
    assert refer_return(client, token, world, body).status_code == 303
    referral = db.execute(select(ReturnReferral)).scalar_one()
    # Withdrawn: nothing more is printed, and no new referral is made.
    store(db, app.state.settings, world.case, "consent", world.people["outreach_worker_a"], CONSENT)
    printed = client.get(f"/returns/{referral.id}/summary")
    assert printed.status_code == 200 and "Украина" not in printed.text
    withheld = BeautifulSoup(printed.text, "html.parser").select_one("#return-summary .withdrawn")
    assert withheld is not None  # said in the body's language
    refused = refer_return(client, token, world, body)
    assert refused.status_code == 422 and "consent to return" in refused.text
    blank = client.post(
        f"/cases/{world.case.id}/returns",
        data={"csrf_token": token, "body_id": "nope", "sending_contact": CONTACT},
    )
    assert blank.status_code == 422
    assert len(db.execute(select(ReturnReferral)).all()) == 1


def test_status_and_follow_up(db: Session, client: TestClient, returning: World) -> None:
    world = returning
    token = sign_in(client, world.people["admin_a"])
    register(client, token)
    token = sign_in(client, world.people["supervisor_a"])
    refer_return(client, token, world, body_of(db))
    referral = db.execute(select(ReturnReferral)).scalar_one()
    path = f"/returns/{referral.id}/status"
    assert client.post(path, data={"csrf_token": token, "status": "lost"}).status_code == 422
    bad_date = client.post(
        path, data={"csrf_token": token, "status": "arrived", "follow_up_on": "31/12/2026"}
    )
    assert bad_date.status_code == 422 and "follow-up date" in bad_date.text
    ok = client.post(
        path, data={"csrf_token": token, "status": "arrived", "follow_up_on": "2026-12-31"}
    )
    assert ok.status_code == 303
    db.expire_all()
    saved = db.get(ReturnReferral, referral.id)
    assert saved is not None and saved.status == "arrived"
    assert saved.follow_up_on == dt.date(2026, 12, 31)
    page = client.get(f"/returns/{referral.id}").text
    assert "Person arrived" in page
    assert "Person arrived" in client.get(f"/cases/{world.case.id}").text


def test_printing_needs_a_fresh_proof_of_identity(
    db: Session, client: TestClient, returning: World
) -> None:
    world = returning
    token = sign_in(client, world.people["admin_a"])
    register(client, token)
    user = world.people["supervisor_a"]
    token = sign_in(client, user)
    refer_return(client, token, world, body_of(db))
    referral = db.execute(select(ReturnReferral)).scalar_one()
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=utcnow() - dt.timedelta(hours=1), last_seen_at=utcnow())
    )
    db.execute(text("DELETE FROM reauthentications"))
    db.commit()
    asked = client.get(f"/returns/{referral.id}/summary", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/account/reauth")
    assert PLAIN not in asked.text
    assert (
        db.execute(select(AuditEvent).where(AuditEvent.action == "return_referral.printed")).first()
        is None
    )


# --- the access matrix: every new route x role x organisation ---------------------------------

ROLES = ("outreach_worker", "supervisor", "admin")


def test_every_external_route_is_in_the_matrix() -> None:
    from intake.referrals.external_views import router
    from intake.security.permissions import iter_api_routes

    declared = {(m, r.path) for r in iter_api_routes(router.routes) for m in r.methods}
    assert len(declared) == 8


@pytest.mark.parametrize("who", [f"{r}_{s}" for r in ROLES for s in "abc"] + ["installation_admin"])
def test_access_matrix(db: Session, client: TestClient, returning: World, who: str) -> None:
    world, p = returning, returning.people
    token = sign_in(client, p["admin_a"])
    register(client, token)
    body = body_of(db)
    token = sign_in(client, p["supervisor_a"])
    refer_return(client, token, world, body)
    referral = db.execute(select(ReturnReferral)).scalar_one()
    token = sign_in(client, p[who])
    role, _sep, side = who.rpartition("_")
    if who == "installation_admin":
        role, side = who, "x"
    case = world.case.id
    admin_routes = [
        ("GET", "/external-bodies", {}),
        ("POST", "/external-bodies", {"csrf_token": token, "name": ""}),
        ("POST", f"/external-bodies/{body.id}/active", {"csrf_token": token, "active": "1"}),
    ]
    case_routes = [
        ("GET", f"/cases/{case}/returns/new", {}),
        ("POST", f"/cases/{case}/returns", {"csrf_token": token, "body_id": body.id}),
        ("GET", f"/returns/{referral.id}", {}),
        ("POST", f"/returns/{referral.id}/status", {"csrf_token": token, "status": "x"}),
        ("GET", f"/returns/{referral.id}/summary", {}),
    ]
    for method, path, data in admin_routes + case_routes:
        response = client.get(path) if method == "GET" else client.post(path, data=data)
        for canary in (PLAIN, RISK, SHARED_NAME, UNSHARED, NOTE):
            assert canary not in response.text or (side == "a" and role == "supervisor"), (
                who,
                path,
            )
        status = response.status_code
        if (method, path, data) in admin_routes:
            if role != "admin":
                assert status == 403, (who, path, status)
            elif "/active" in path:
                assert status == (303 if side == "a" else 404), (who, path, status)
            else:
                assert status == (200 if method == "GET" else 422), (who, path, status)
        elif role not in ("supervisor", "outreach_worker"):
            assert status == 403, (who, path, status)
        elif side != "a":
            # Another organisation: not found (the case's owner and supervisors act on it).
            assert status == 404, (who, path, status)
        else:
            assert status == (200 if method == "GET" else 422), (who, path, status)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=60),
    country=st.text(max_size=4),
    languages=st.text(max_size=12),
    contact=st.text(max_size=40),
)
def test_any_text_registers_a_body_or_is_refused_storing_nothing(
    db: Session,
    client: TestClient,
    world: World,
    name: str,
    country: str,
    languages: str,
    contact: str,
) -> None:
    if not hasattr(client, "_token"):
        client._token = sign_in(client, world.people["admin_a"])  # type: ignore[attr-defined]
    before = len(db.execute(select(ExternalBody.id)).all())
    response = register(
        client,
        client._token,  # type: ignore[attr-defined]
        name=name,
        country=country,
        languages=languages,
        contact=contact,
    )
    db.expire_all()
    after = len(db.execute(select(ExternalBody.id)).all())
    assert response.status_code in (303, 422), response.status_code
    assert after == before + (1 if response.status_code == 303 else 0)
