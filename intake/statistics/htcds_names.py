"""The column names and coded values of HTCDS v2.0 that the mapping file may use.

From the standard's own Excel toolkit (header row) and its XLSForm (choice lists),
github.com/UNMigration/HTCDS, CC BY 4.0. A name not listed here is refused by
`intake exports check`, so an exchange file never carries a column HTCDS does not know.
"""

from __future__ import annotations

from collections.abc import Mapping

COLUMNS: frozenset[str] = frozenset(
    {
        "cas_CaseOwner", "prs_Salutation", "prs_FirstName", "prs_SecondName", "con_Consent",
        "prs_Birthdate", "prs_Gender", "prs_Citizenship", "prs_Title", "prs_Email",
        "prs_HomePhone", "prs_MobilePhone", "prs_MailingCity", "prs_MailingCountry",
        "prs_MailingState", "prs_MailingStreet", "prs_MailingPostalCode",
        "vic_TraffickingStatus", "vic_TraffickinStatusDecisionMakingOrg",
        "vic_MethodOfRecruitment", "vic_LocationOfRecruitment", "vic_MethodsOfControl",
        "vic_TypeOfExploitation", "vic_ForcedLabourIndustry", "vic_TypeOfSexExploitation",
        "vic_LocationOfExploitation", "cas_Status", "cas_ReferringOrganisation",
        "cas_IncomingReferralDate", "cas_ReferringPrimaryCaseWorker",
        "cas_ReasonForIncomingReferral", "cas_IncomingReferralDetails",
        "cas_ReferredOrganisation", "cas_ReferredPrimaryCaseWorker",
        "cas_OutgoingReferralDate", "cas_OutgoingReferralDetails", "cas_ReasonForCaseClosure",
    }
)  # fmt: skip

CODES: Mapping[str, frozenset[str]] = {
    "prs_Gender": frozenset(
        {"Feminine", "Masculine", "TransgenderFeminine", "TransgenderMasculine",
         "NonConforming", "NonSpecifiedUnknown"}
    ),
    "vic_MethodOfRecruitment": frozenset(
        {"AtAPlaceOfBusiness", "AtAnEducationalInstitution", "AtWork",
         "ThroughOnlineSocialNetworks", "ThroughAnOnlineAdvertisement",
         "ThroughATelevisionAdvert", "ThroughANewspaperAdvert", "ThroughFamilyOrFamilyEvents",
         "ThroughFriendsOrSocialEvents", "Other"}
    ),
    "vic_MethodsOfControl": frozenset(
        {"PhysicalThreats", "ThreatsLawEnforcement", "ThreatensChildrenFamily", "DebtBondage",
         "FalsePromises", "PhysicalAbuse", "SexualAbuse", "TakesEarnings",
         "RestrictsFinancialAccess", "RestrictsMedicalCare", "WithholdsNecessities",
         "PsychologicalAbuse", "PsychoactiveSubstance", "ExcessiveWorkingHours",
         "WithholdsDocuments", "Other"}
    ),
    "vic_TypeOfExploitation": frozenset(
        {"ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage", "Servitude",
         "ForcedMilitaryByNonStateActors", "OrganRemoval", "ForcedBegging", "ForcedAdoption",
         "Surrogacy", "Other"}
    ),
    "cas_Status": frozenset({"Active", "FollowUp", "Closed", "ClosedReferred"}),
    "con_Consent": frozenset({"TRUE", "FALSE"}),
}  # fmt: skip
