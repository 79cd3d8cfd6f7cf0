"""The HTCDS v2.0 exchange file of one case: only HTCDS's column names and codes (checked
against the list below, taken from the standard's own toolkit, github.com/UNMigration/HTCDS,
CC BY 4.0), only with the person's consent to referral, only for whom may see the case,
every attempt audited; and the mapping file's check."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.cases.models import Case
from intake.config import Settings
from intake.db import new_id
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.forms.storage import seal
from intake.statistics import exports_htcds
from tests.cases.helpers import open_case
from tests.cases.helpers import submit as store
from tests.conftest import login, make_user

from .helpers import person

# The header row of "HTCDS Excel Spreadsheet v2.0.xlsx" (Toolkit/Excel).
HTCDS_COLUMNS = {
    "cas_CaseOwner", "prs_Salutation", "prs_FirstName", "prs_SecondName", "con_Consent",
    "prs_Birthdate", "prs_Gender", "prs_Citizenship", "prs_Title", "prs_Email",
    "prs_HomePhone", "prs_MobilePhone", "prs_MailingCity", "prs_MailingCountry",
    "prs_MailingState", "prs_MailingStreet", "prs_MailingPostalCode", "vic_TraffickingStatus",
    "vic_TraffickinStatusDecisionMakingOrg", "vic_MethodOfRecruitment",
    "vic_LocationOfRecruitment", "vic_MethodsOfControl", "vic_TypeOfExploitation",
    "vic_ForcedLabourIndustry", "vic_TypeOfSexExploitation", "vic_LocationOfExploitation",
    "cas_Status", "cas_ReferringOrganisation", "cas_IncomingReferralDate",
    "cas_ReferringPrimaryCaseWorker", "cas_ReasonForIncomingReferral",
    "cas_IncomingReferralDetails", "cas_ReferredOrganisation", "cas_ReferredPrimaryCaseWorker",
    "cas_OutgoingReferralDate", "cas_OutgoingReferralDetails", "cas_ReasonForCaseClosure",
}  # fmt: skip
# The choice lists of Toolkit/Survey/htcds_xlsform.xlsx.
HTCDS_CODES = {
    "prs_Gender": {"Feminine", "Masculine", "TransgenderFeminine", "TransgenderMasculine",
                   "NonConforming", "NonSpecifiedUnknown"},
    "vic_MethodOfRecruitment": {"AtAPlaceOfBusiness", "AtAnEducationalInstitution", "AtWork",
                                "ThroughOnlineSocialNetworks", "ThroughAnOnlineAdvertisement",
                                "ThroughATelevisionAdvert", "ThroughANewspaperAdvert",
                                "ThroughFamilyOrFamilyEvents", "ThroughFriendsOrSocialEvents",
                                "Other"},
    "vic_MethodsOfControl": {"PhysicalThreats", "ThreatsLawEnforcement",
                             "ThreatensChildrenFamily", "DebtBondage", "FalsePromises",
                             "PhysicalAbuse", "SexualAbuse", "TakesEarnings",
                             "RestrictsFinancialAccess", "RestrictsMedicalCare",
                             "WithholdsNecessities", "PsychologicalAbuse",
                             "PsychoactiveSubstance", "ExcessiveWorkingHours",
                             "WithholdsDocuments", "Other"},
    "vic_TypeOfExploitation": {"ForcedLabour", "SexualExploitation", "ChildLabour",
                               "ForcedMarriage", "Servitude", "ForcedMilitaryByNonStateActors",
                               "OrganRemoval", "ForcedBegging", "ForcedAdoption", "Surrogacy",
                               "Other"},
    "cas_Status": {"Active", "FollowUp", "Closed", "ClosedReferred"},
    "con_Consent": {"TRUE", "FALSE"},
}  # fmt: skip
ISO_ALPHA_2 = {"LT", "LV", "EE", "PL", "UA", "BY", "RU", "MD", "RO", "BG", "GE", "UZ", "TJ",
               "KG", "VN", "NG", "PH", "IN", "GB", "DE", "NO"}  # fmt: skip


def _intake(db: Session, settings: Settings, case: Case, by: User, answers: dict[str, Any]) -> None:
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    row = Submission(
        id=new_id(),
        client_id=new_id(),
        answers_digest="0" * 64,
        form_version_id=version.id,
        form_key="first_contact",
        case_id=case.id,
        organisation_id=by.organisation_id,
        submitted_by_id=by.id,
        language="en",
    )
    row.answers = seal(
        settings=settings,
        form=definitions.compiled_form(version),
        answers=answers,
        row=f"submission:{row.id}",
    )
    db.add(row)
    db.commit()


def _consent(referral: bool) -> dict[str, Any]:
    return {
        "consent_date": "2025-03-01",
        "consent_services": True,
        "consent_sharing": False,
        "consent_referral": referral,
        "consent_return": "no",
    }


def test_the_exchange_file_uses_only_htcds_names_and_codes(
    client: TestClient, db: Session, settings: Settings, org: Organisation
) -> None:
    worker, supervisor = make_user(db, org, "outreach_worker"), make_user(db, org, "supervisor")
    case = open_case(db, worker)
    answers = person("female", 30, "ukraine", ("labour", "sexual", "criminality"))
    answers |= {
        "birth_date": "1995-02-03",
        "contact_phone": "+37060000000",
        "means_of_control": ["debt_bondage", "restricts_movement"],
        "recruitment": ["online"],
        "exploitation_country": "germany",
    }
    _intake(db, settings, case, worker, answers)
    store(db, case, "consent", worker, _consent(referral=True))
    login(client, supervisor.username)
    response = client.get(f"/cases/{case.id}/htcds.csv")
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert set(row) <= HTCDS_COLUMNS
    for column, allowed in HTCDS_CODES.items():
        if row.get(column):
            assert set(row[column].split(";")) <= allowed, column
    for column in ("prs_Citizenship", "vic_LocationOfExploitation"):
        assert row[column] in ISO_ALPHA_2
    assert row["prs_FirstName"] == answers["given_name"]
    assert row["prs_MobilePhone"] == "+37060000000"
    assert row["vic_TypeOfExploitation"] == "ForcedLabour;SexualExploitation;Other"
    assert row["vic_MethodsOfControl"] == "DebtBondage;Other"
    assert (row["cas_Status"], row["con_Consent"], row["prs_Gender"]) == (
        "Active",
        "TRUE",
        "Feminine",
    )
    event = db.execute(
        select(AuditEvent).where(AuditEvent.action == "case.htcds_exported")
    ).scalar_one()
    assert (event.object_id, event.outcome, event.actor_id) == (case.id, "ok", supervisor.id)


def test_no_file_without_consent_to_referral_nor_for_another_organisation(
    client: TestClient, db: Session, settings: Settings, org: Organisation, other_org: Organisation
) -> None:
    worker = make_user(db, org, "outreach_worker")
    case = open_case(db, worker)
    _intake(db, settings, case, worker, person())
    store(db, case, "consent", worker, _consent(referral=False))
    login(client, make_user(db, org, "supervisor").username)
    refused = client.get(f"/cases/{case.id}/htcds.csv")
    assert refused.status_code == 403
    assert "consent to referral" in refused.text and person()["given_name"] not in refused.text
    outcomes = db.execute(
        select(AuditEvent.outcome).where(AuditEvent.action == "case.htcds_exported")
    ).scalars()
    assert list(outcomes) == ["refused"]
    stranger = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    login(stranger, make_user(db, other_org, "supervisor").username)
    assert stranger.get(f"/cases/{case.id}/htcds.csv").status_code == 404


def test_the_mapping_check_names_what_htcds_does_not_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exports_htcds.check_command() == 0
    columns, problems = exports_htcds.load_mapping()
    assert problems == [] and {c.name for c in columns} <= HTCDS_COLUMNS
    for column in columns:
        if isinstance(column.codes, dict):
            assert set(column.codes.values()) <= HTCDS_CODES[column.name]
    bad = tmp_path / "htcds.yaml"
    bad.write_text(
        "columns:\n"
        "  prs_Nickname: {form: first_contact, field: given_name}\n"
        "  prs_Gender: {form: first_contact, field: gender, codes: {female: Woman}}\n"
        "  vic_TypeOfExploitation: {form: first_contact, field: no_such_field}\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert exports_htcds.check_command(str(bad)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "htcds.yaml: prs_Nickname: not an HTCDS v2.0 column",
        "htcds.yaml: prs_Gender: Woman is not an HTCDS code of this column",
        "htcds.yaml: vic_TypeOfExploitation: no field first_contact.no_such_field",
    ]
