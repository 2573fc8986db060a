"""Every PORTAL_* variable, read once at start-up. The README documents each one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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
    # Longer than a load balancer's idle timeout (60 s on the common ones), so the proxy, not uvicorn
    # (5 s by default), closes idle connections: otherwise a reader who pauses reconnects every page.
    keep_alive_seconds: int = 75
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    clamd_socket: str = ""
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    without_delay_hours: int = 24
    email_sender: str = "log"
    mail_from: str = "notifications@regulator.example"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    notify_api_key: str = ""
    notify_template_id: str = ""
    # Empty means the Notify client's own default, the live GOV.UK Notify API.
    notify_base_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
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
            if not env.get("PORTAL_CLAMD_SOCKET") and env.get("PORTAL_ALLOW_UNSCANNED_UPLOADS") != "1":
                raise ConfigurationError(
                    "PORTAL_CLAMD_SOCKET must be set in production, or PORTAL_ALLOW_UNSCANNED_UPLOADS=1"
                )
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
        if sender == "notify" and not (env.get("PORTAL_NOTIFY_API_KEY") and env.get("PORTAL_NOTIFY_TEMPLATE_ID")):
            raise ConfigurationError(
                "PORTAL_EMAIL_SENDER=notify needs PORTAL_NOTIFY_API_KEY and PORTAL_NOTIFY_TEMPLATE_ID"
            )
        webhook_url, webhook_secret = env.get("PORTAL_WEBHOOK_URL", "").strip(), env.get("PORTAL_WEBHOOK_SECRET", "")
        _check_webhook(webhook_url, webhook_secret, production=mode == "production")
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
            keep_alive_seconds=number("PORTAL_KEEP_ALIVE_SECONDS", 75),
            max_request_bytes=number("PORTAL_MAX_REQUEST_BYTES", 2 * 1024 * 1024),
            max_upload_bytes=number("PORTAL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
            clamd_socket=env.get("PORTAL_CLAMD_SOCKET", ""),
            session_idle_minutes=number("PORTAL_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=number("PORTAL_SESSION_ABSOLUTE_HOURS", 12),
            without_delay_hours=number("PORTAL_WITHOUT_DELAY_HOURS", 24),
            email_sender=sender,
            mail_from=env.get("PORTAL_MAIL_FROM", cls.mail_from),
            smtp_host=env.get("PORTAL_SMTP_HOST", "127.0.0.1"),
            smtp_port=number("PORTAL_SMTP_PORT", 25),
            notify_api_key=env.get("PORTAL_NOTIFY_API_KEY", ""),
            notify_template_id=env.get("PORTAL_NOTIFY_TEMPLATE_ID", ""),
            notify_base_url=env.get("PORTAL_NOTIFY_BASE_URL", "").rstrip("/"),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            oidc_issuer=env.get("PORTAL_OIDC_ISSUER", "").rstrip("/"),
            oidc_client_id=env.get("PORTAL_OIDC_CLIENT_ID", ""),
            oidc_private_key_file=env.get("PORTAL_OIDC_PRIVATE_KEY_FILE", ""),
            oidc_key_id=env.get("PORTAL_OIDC_KEY_ID", ""),
            oidc_scopes=env.get("PORTAL_OIDC_SCOPES", "openid email"),
            oidc_vtr=env.get("PORTAL_OIDC_VTR", '["Cl.Cm"]'),
            seed_demo=env.get("PORTAL_SEED_DEMO", "1" if mode == "development" else "0") == "1",
        )


def _check_webhook(url: str, secret: str, *, production: bool) -> None:
    if not url:
        return
    if not url.startswith(("https://", "http://")) or len(url) > 320:
        # 320: the outbox keeps the URL as the message's recipient.
        raise ConfigurationError("PORTAL_WEBHOOK_URL must be an http(s) URL of at most 320 characters")
    if production and not url.startswith("https://"):
        raise ConfigurationError("PORTAL_WEBHOOK_URL must use https in production: submissions carry personal data")
    if len(secret) < 32:
        # An unsigned or guessable signature would let anyone post fake submissions to the receiver.
        raise ConfigurationError("PORTAL_WEBHOOK_SECRET must be set, at least 32 characters, with PORTAL_WEBHOOK_URL")


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
