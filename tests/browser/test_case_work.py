"""A case from the street to closure, on a phone (360 x 740) in a real Chromium.

An outreach worker records a 16-year-old girl (consent, then the intake form);
the case opens on the girls' track. A supervisor puts the team together, fills
each stage's forms from the case page, and moves the case stage by stage to
closure; the timeline shows every step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in, sign_out

pytestmark = pytest.mark.browser

TODAY = dt.date.today().isoformat()
LATER = (dt.date.today() + dt.timedelta(days=30)).isoformat()

CONSENT = [
    {"consent_date": TODAY, "explained_in": "russian"},
    {
        "consent_services": "yes",
        "consent_sharing": "no",
        "consent_referral": "yes",
        "consent_return": "not_now",
        "worker_confirms": "yes",
    },
]
FIRST_CONTACT = [
    {"contact_date": TODAY, "where_met": "outreach"},
    {"given_name": "Ольга", "family_name": "Петрова", "age": "16", "gender": "female"},
    {"immediate_needs": ["food", "shelter"], "safety_risk": "medium"},
    {},
]
FORMS: dict[str, list[dict[str, Any]]] = {
    "urgent_needs": [
        {
            "assistance_date": TODAY,
            "provided": ["food", "clothing"],
            "medical_needed": "no",
            "bed_tonight": "shelter",
        }
    ],
    "guardian": [
        {
            "guardian_role": "appointed",
            "guardian_name": "Jonas Jonaitis",
            "possible_conflict": "no",
            "child_informed": "yes",
        }
    ],
    "best_interests": [
        {
            "assessment_date": TODAY,
            "participants": ["guardian", "social_worker"],
            "views_heard": "yes",
            "child_views": "Wants to finish school here.",
            "safety_now": "safe",
        },
        {"decision": "stay_in_care", "decision_reasons": "Safe and settled in care."},
    ],
    "housing_placement": [{"placement_type": "minors_shelter", "start_date": TODAY}],
    "psychological_assessment": [
        {
            "assessment_date": TODAY,
            "self_harm_risk": "low",
            "psychiatric_referral": "no",
            "summary": "Sleeping better; weekly sessions.",
        }
    ],
    "family_assessment": [
        {
            "assessment_date": TODAY,
            "assessed_by": "our_team",
            "involvement": "suspected",
            "living_conditions": "poor",
            "girl_wishes": "To stay and study.",
            "family_members.0.relation": "mother",
        },
        {"recommendation": "return_not_recommended", "reasons": "The family was involved."},
    ],
    "reintegration_plan": [
        {
            "plan_date": TODAY,
            "goals": ["education"],
            "actions": "Enrol at the vocational school.",
            "person_agrees": "yes",
            "review_date": LATER,
        }
    ],
}
# Each step: the forms filled at that stage, the trigger, and the stage it leads to.
PATH = [
    (
        ["urgent_needs", "guardian", "best_interests"],
        "move_to_specialised_housing",
        "Specialised housing",
    ),
    (["housing_placement"], "start_psychological_support", "Psychological support"),
    (["psychological_assessment"], "start_education", "Education with a pedagogue"),
    ([], "start_family_assessment", "Family assessment"),
    (["family_assessment"], "start_reintegration", "Reintegration"),
    (["reintegration_plan"], "complete_reintegration", "Closed"),
]
TEAM = [
    ("b.worker", "social_worker"),
    ("b.supervisor", "health_specialist"),
    ("b.supervisor", "psychologist"),
    ("b.supervisor", "pedagogue"),
]


def _answer(page: Page, name: str, value: Any) -> None:
    field = page.locator(f'[name="{name}"]')
    kind = field.first.evaluate("e => e.tagName === 'INPUT' ? e.type : e.tagName.toLowerCase()")
    if kind == "select":
        field.select_option(value)
    elif kind in ("radio", "checkbox"):  # one input per choice
        for choice in value if isinstance(value, list) else [value]:
            page.check(f'[name="{name}"][value="{choice}"]')
    else:
        field.fill(value)


def _fill(page: Page, pages: list[dict[str, Any]]) -> None:
    """Answer each page, then Next; stop on the review with its Submit button."""
    for answers in pages:
        progress = page.locator(".progress").inner_text()
        for name, value in answers.items():
            _answer(page, name, value)
        page.click("#filling button.primary")
        # Either the next page comes, or this one comes back with its errors.
        page.wait_for_function(
            "(old) => document.querySelector('.field-error')"
            " || document.querySelector('.progress').textContent.trim() !== old",
            arg=progress.strip(),
        )
        errors = page.locator(".field-error")
        assert errors.count() == 0, errors.all_inner_texts()
    expect(page.locator("#submit-filling")).to_be_visible()


def _submit_to(page: Page, url_pattern: str) -> None:
    page.click("#submit-filling")
    page.wait_for_url(url_pattern)


def _sign_out(page: Page) -> None:
    sign_out(page)
    page.wait_for_url("**/login")


def _add_to_team(page: Page, username: str, function: str) -> None:
    members = page.locator(".team li").count()
    form = page.locator("details.team-form")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    person = page.locator(f"#team-person-{function}")
    label = person.evaluate(
        "(select, name) => [...select.options]"
        ".find(o => o.textContent.startsWith(name + ' ')).textContent",
        username,
    )
    person.select_option(label=label)
    form.locator("button.primary").click()
    expect(page.locator(".team li")).to_have_count(members + 1)


def test_a_girl_is_recorded_and_her_case_taken_to_closure(phone: Page, server) -> None:
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    base = server["url"]

    # The outreach worker, in the street: consent first, then the intake form.
    sign_in(phone, server, "b.worker")
    phone.click("#new-intake")
    phone.click("#start-intake")
    phone.wait_for_url(f"{base}/fill/*")
    _fill(phone, CONSENT)
    consent_url = phone.url
    phone.click("#submit-filling")
    phone.wait_for_function("(old) => location.href !== old", arg=consent_url)
    phone.wait_for_url(f"{base}/fill/*")
    _fill(phone, FIRST_CONTACT)
    _submit_to(phone, f"{base}/cases/*")
    case_url = phone.url
    reference = phone.locator("h1 .reference").inner_text()
    expect(phone.locator(".track")).to_have_text("Girls under 18")
    expect(phone.locator("#stage-heading")).to_have_text("Urgent assistance")
    # She is not on the team: her name stays with the team and the supervisors.
    assert "Ольга" not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    _sign_out(phone)

    # The supervisor finds the case in the organisation's list.
    sign_in(phone, server, "b.supervisor")
    phone.click("nav >> text=Cases")
    phone.click("a[data-tab=organisation]")
    phone.click(f".case-row a:has-text('{reference}')")
    phone.wait_for_url(case_url)
    intake_answers = phone.locator(".filled[data-form=first_contact]")
    intake_answers.locator("summary").click()
    expect(intake_answers.locator("dl")).to_contain_text("Ольга")
    for username, function in TEAM:
        _add_to_team(phone, username, function)

    for forms, trigger, stage in PATH:
        for form in forms:
            phone.click(f".stage-forms li[data-form={form}] button.fill")
            phone.wait_for_url(f"{base}/fill/*")
            _fill(phone, FORMS[form])
            _submit_to(phone, case_url)
            expect(phone.locator(f".stage-forms li[data-form={form}] .done")).to_be_visible()
        action = phone.locator(f"form.action:has(input[name=trigger][value={trigger}])")
        action.locator("button.primary").click()
        expect(phone.locator("#stage-heading")).to_have_text(stage)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    expect(phone.locator(".closed")).to_be_visible()
    timeline = phone.locator(".timeline .what").all_inner_texts()
    assert timeline[0:3] == [
        "Form filled: Consent",
        "Form filled: First contact",
        "Case opened: Girls under 18, Urgent assistance",
    ]
    moves = [t for t in timeline if "→" in t]
    assert [m.rsplit("→ ", 1)[1] for m in moves] == [stage for _f, _t, stage in PATH]
    filled = [t for t in timeline if t.startswith("Form filled: ")]
    assert len(filled) == 2 + sum(len(forms) for forms, _t, _s in PATH)
    joined = [t for t in timeline if "joined the team" in t]
    assert len(joined) == len(TEAM)
    assert errors == [], errors  # includes CSP violations
