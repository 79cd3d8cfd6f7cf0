"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from intake.accounts import mfa_models, token_models
from intake.accounts import models as accounts_models
from intake.audit import models as audit_models
from intake.cases import models as cases_models
from intake.cases import service_records as service_records_models
from intake.definitions import models as definitions_models
from intake.filling import models as forms_models
from intake.overlap import models as overlap_models
from intake.referrals import models as referrals_models
from intake.retention import models as retention_models
from intake.security import models as security_models
from intake.statistics import models as statistics_models

__all__ = [
    "accounts_models",
    "audit_models",
    "cases_models",
    "definitions_models",
    "forms_models",
    "mfa_models",
    "overlap_models",
    "referrals_models",
    "retention_models",
    "security_models",
    "service_records_models",
    "statistics_models",
    "token_models",
]
