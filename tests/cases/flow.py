"""Driving an intake through the pages a worker's phone posts (no JavaScript)."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import csrf_from

CONSENT_GIVEN = [
    {"consent_date": "2024-03-01", "explained_in": "russian"},
    {
        "consent_services": "yes",
        "consent_sharing": "no",
        "consent_referral": "yes",
        "consent_return": "not_now",
        "worker_confirms": "yes",
    },
]
# Consent to sharing with NGOs and municipal social services (an overlap may be told).
CONSENT_SHARING = [
    CONSENT_GIVEN[0],
    {
        **CONSENT_GIVEN[1],
        "consent_sharing": "yes",
        "sharing_with": ["ngos", "social_services"],
    },
]
MEETING = {"contact_date": "2024-03-01", "where_met": "outreach"}
SITUATION = {"immediate_needs": ["food"], "safety_risk": "low"}
GIRL = {"given_name": "Ольга", "family_name": "Петрова", "age": "16", "gender": "female"}
WOMAN = {
    "given_name": "Ona",
    "family_name": "Petraitė",
    "birth_date": "1990-05-04",
    "gender": "female",
}


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def start_intake(client: TestClient) -> str:
    """Open 'New intake', start it, and return the consent filling's client id."""
    page = client.get("/intake/new")
    assert page.status_code == 200, page.status_code
    client_id = soup(page.text).find("input", {"name": "client_id"})["value"]
    started = client.post(
        "/intake/new",
        data={"csrf_token": csrf_from(page.text), "client_id": client_id, "language": "en"},
    )
    assert started.status_code == 303
    assert started.headers["location"] == f"/fill/{client_id}"
    return str(client_id)


def fill_pages(client: TestClient, client_id: str, pages: list[dict[str, Any]]) -> None:
    for answers in [*pages, {}]:
        token = csrf_from(client.get(f"/fill/{client_id}").text)
        posted = client.post(
            f"/fill/{client_id}", data={"csrf_token": token, "_action": "next", **answers}
        )
        assert posted.status_code == 303, soup(posted.text).select(".field-error")


def review(client: TestClient, client_id: str) -> tuple[BeautifulSoup, dict[str, str]]:
    """The review page, and the fields its submit form posts."""
    page = client.get(f"/fill/{client_id}")
    html = soup(page.text)
    form = html.find("form", {"action": f"/fill/{client_id}/submit"})
    assert form is not None, "no submit form on the review page"
    fields = {
        i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") != "checkbox"
    }
    return html, fields


def submit(client: TestClient, client_id: str, **extra: str) -> Response:
    _html, fields = review(client, client_id)
    return client.post(f"/fill/{client_id}/submit", data={**fields, **extra})


def give_consent(client: TestClient, pages: list[dict[str, Any]] | None = None) -> str:
    """Start an intake and submit its consent; returns where the worker is sent next."""
    consent_id = start_intake(client)
    fill_pages(client, consent_id, pages or CONSENT_GIVEN)
    done = submit(client, consent_id)
    assert done.status_code == 303
    return str(done.headers["location"])


def record_person(
    client: TestClient,
    person: dict[str, str],
    consent: list[dict[str, Any]] | None = None,
    **extra: str,
) -> Response:
    """A whole intake (consent given, then the intake form) up to its final submit."""
    next_url = give_consent(client, consent)
    assert next_url.startswith("/fill/")
    intake_id = next_url.removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, person, SITUATION])
    return submit(client, intake_id, **extra)
