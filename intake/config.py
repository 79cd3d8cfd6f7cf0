"""Settings, read from INTAKE_* environment variables."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything an operator may set; defaults suit a laptop demo."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    secret_key: str = ""
    # Keys for sensitive answers: "kid:base64key,kid2:base64key"; the first encrypts.
    data_keys: str = ""
    # Cookies get `Secure` and the `__Host-` prefix; on by default in production.
    secure_cookies: bool | None = None
    public_origin: str = ""
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 7)
    max_body_bytes: int = Field(default=1_000_000, ge=10_000)
    login_account_max_failures: int = Field(default=5, ge=1)
    login_client_max_failures: int = Field(default=30, ge=1)
    login_client_window_minutes: int = Field(default=15, ge=1)
    # Addresses or networks of reverse proxies whose X-Forwarded-For / -Proto are believed
    # ("10.0.0.5,192.168.1.0/24"); empty: forwarded headers are ignored, from anyone.
    trusted_proxies: str = ""
    # The write discipline (intake.db): how long a request may wait for SQLite's
    # one write lock, or for a PostgreSQL connection, before it is answered 503.
    write_wait_seconds: float = Field(default=5.0, gt=0, le=60)
    # Worker threads for database work; the PostgreSQL pool has as many connections,
    # so no thread ever waits for a connection held by a request waiting for a thread.
    worker_threads: int = Field(default=40, ge=2, le=400)
    # Requests in flight beyond this are answered 503 at once instead of queueing.
    max_requests_in_flight: int = Field(default=400, ge=10)
    # Password checks (argon2id, 64 MiB each) that may run at once; 0 means one per core.
    password_checks_at_once: int = Field(default=0, ge=0, le=64)
    # A second factor (TOTP) for the roles that need one (intake.accounts.mfa). Only a
    # development or test installation may switch it off; production refuses to start so.
    mfa_enforced: bool = True
    # How recently a person must have proved who they are before a sensitive action.
    reauth_minutes: int = Field(default=5, ge=1, le=60)
    # Closed cases past their organisation's retention period are anonymised once a day
    # by the server (intake.retention.daily); off, `intake retention run` does it.
    retention_daily: bool = True
    # A referral not answered within this many days is shown overdue (intake.referrals).
    referral_answer_days: int = Field(default=5, ge=1, le=365)
    # Figures outside an organisation show no count below this (intake.statistics); CTDC
    # publishes with k = 11. Never below 5: a smaller threshold refuses to start.
    statistics_threshold: int = Field(default=11, ge=5, le=1000)
    default_locale: str = "en"
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'intake.sqlite3'}"
        if self.secure_cookies is None:
            self.secure_cookies = self.mode == "production"
        if not self.secret_key:
            if self.mode == "production":
                raise ValueError("INTAKE_SECRET_KEY must be set in production mode")
            self.secret_key = _development_secret(self.var_dir / "secret_key")
        if self.mode == "production" and not self.mfa_enforced:
            raise ValueError("INTAKE_MFA_ENFORCED cannot be switched off in production mode")
        if len(self.secret_key) < 32:
            raise ValueError("INTAKE_SECRET_KEY must be at least 32 characters")
        if not self.data_keys:
            if self.mode == "production":
                raise ValueError("INTAKE_DATA_KEYS must be set in production mode")
            self.data_keys = _development_secret(self.var_dir / "data_keys", data_key=True)
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"INTAKE_TRUSTED_PROXIES: {part!r} is not an address or network"
                ) from None
        return value

    @property
    def cookie_secure(self) -> bool:
        """Whether cookies are sent only over HTTPS."""
        return bool(self.secure_cookies)


def _development_secret(path: Path, *, data_key: bool = False) -> str:
    """A secret generated once and kept under var/, so restarts keep sessions and data."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    if data_key:
        import base64

        value = "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    else:
        value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
