"""Every PORTAL_* variable, read once at start-up. The README documents each one."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping


class ConfigurationError(SystemExit):
    """Stops start-up with a one-line reason, never a traceback."""

    def __init__(self, reason: str):
        super().__init__(f"portal: configuration error: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    service_name: str = "Submit a statutory notification"
    regulator_name: str = "The Care Regulator"
    support_email: str = "support@regulator.example"
    db_threads: int = 4
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    email_sender: str = "log"
    mail_from: str = "notifications@regulator.example"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    notify_api_key: str = ""
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_private_key_file: str = ""
    oidc_key_id: str = ""
    oidc_scopes: str = "openid email"
    oidc_vtr: str = '["Cl.Cm"]'
    seed_demo: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "files"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = dict(os.environ if environ is None else environ)
        mode = env.get("PORTAL_ENV", "development")
        if mode not in ("development", "production"):
            raise ConfigurationError(f"PORTAL_ENV must be development or production, not {mode!r}")
        data_dir = Path(env.get("PORTAL_DATA_DIR", "var"))
        database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{(data_dir / 'portal.sqlite3').resolve()}"
        secret = env.get("PORTAL_SECRET_KEY", "")
        if mode == "production":
            if not secret:
                raise ConfigurationError("PORTAL_SECRET_KEY must be set in production")
            if database_url.startswith("sqlite") and env.get("PORTAL_ALLOW_SQLITE") != "1":
                raise ConfigurationError(
                    "SQLite in production needs PORTAL_ALLOW_SQLITE=1; use PostgreSQL for more than one machine"
                )
        elif not secret:
            secret = _development_secret(data_dir)

        def number(name: str, default: int) -> int:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                return int(raw)
            except ValueError:
                raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None

        sender = env.get("PORTAL_EMAIL_SENDER", "log")
        if sender not in ("log", "smtp", "notify"):
            raise ConfigurationError(f"PORTAL_EMAIL_SENDER must be log, smtp or notify, not {sender!r}")
        return cls(
            env=mode,
            database_url=database_url,
            secret_key=secret,
            base_url=env.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            data_dir=data_dir,
            service_name=env.get("PORTAL_SERVICE_NAME", cls.service_name),
            regulator_name=env.get("PORTAL_REGULATOR_NAME", cls.regulator_name),
            support_email=env.get("PORTAL_SUPPORT_EMAIL", cls.support_email),
            db_threads=number("PORTAL_DB_THREADS", 4),
            max_request_bytes=number("PORTAL_MAX_REQUEST_BYTES", 2 * 1024 * 1024),
            max_upload_bytes=number("PORTAL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
            session_idle_minutes=number("PORTAL_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=number("PORTAL_SESSION_ABSOLUTE_HOURS", 12),
            email_sender=sender,
            mail_from=env.get("PORTAL_MAIL_FROM", cls.mail_from),
            smtp_host=env.get("PORTAL_SMTP_HOST", "127.0.0.1"),
            smtp_port=number("PORTAL_SMTP_PORT", 25),
            notify_api_key=env.get("PORTAL_NOTIFY_API_KEY", ""),
            oidc_issuer=env.get("PORTAL_OIDC_ISSUER", "").rstrip("/"),
            oidc_client_id=env.get("PORTAL_OIDC_CLIENT_ID", ""),
            oidc_private_key_file=env.get("PORTAL_OIDC_PRIVATE_KEY_FILE", ""),
            oidc_key_id=env.get("PORTAL_OIDC_KEY_ID", ""),
            oidc_scopes=env.get("PORTAL_OIDC_SCOPES", "openid email"),
            oidc_vtr=env.get("PORTAL_OIDC_VTR", '["Cl.Cm"]'),
            seed_demo=env.get("PORTAL_SEED_DEMO", "1" if mode == "development" else "0") == "1",
        )


def _development_secret(data_dir: Path) -> str:
    """Generated once and kept, so sessions survive a restart on a developer's machine."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
