"""Every PORTAL_* variable, read once at start-up. The README documents each one."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import vectors_of_trust
from .oidc_checks import issuer_problem, rsa_size_problem, scopes_problem
from .staff_oidc_config import StaffOidc, StaffOidcConfigError
from .staff_oidc_config import parse as parse_staff_oidc

# Production secrets shorter than this are refused: 32 random bytes cannot be guessed offline.
MIN_SECRET_BYTES = 32


class ConfigurationError(SystemExit):
    """Stops start-up with a one-line reason, never a traceback."""

    def __init__(self, reason: str):
        super().__init__(f"portal: configuration error: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Retention:
    """Days each kind of record is kept, counted from when it stopped being of use."""

    # A notification never submitted, with no change and no activity for this long.
    drafts_days: int = 180
    # Sign-in links, from when they expired.
    sign_in_links_days: int = 7
    # Sessions, from their last request.
    sessions_days: int = 90
    # Rate-limit counters, from the start of their window.
    rate_limits_days: int = 2
    # Sent emails and webhooks, from when they were sent. Messages given up on stay for the support team.
    outbox_days: int = 30
    # Audit events keep who did what for good; their IP address and browser are blanked after this long.
    audit_ip_days: int = 365

    # (setting, attribute, least days): each PORTAL_RETAIN_* variable and what it sets.
    VARIABLES = (
        ("PORTAL_RETAIN_DRAFTS_DAYS", "drafts_days", 7),
        ("PORTAL_RETAIN_SIGN_IN_LINKS_DAYS", "sign_in_links_days", 1),
        ("PORTAL_RETAIN_SESSIONS_DAYS", "sessions_days", 1),
        ("PORTAL_RETAIN_RATE_LIMITS_DAYS", "rate_limits_days", 1),
        ("PORTAL_RETAIN_OUTBOX_DAYS", "outbox_days", 1),
        ("PORTAL_RETAIN_AUDIT_IP_DAYS", "audit_ip_days", 1),
    )


@dataclass(frozen=True)
class ObjectStore:
    """Where uploaded files are kept: `local` files under PORTAL_DATA_DIR (one machine), or `s3`, a bucket
    every instance shares. S3 credentials come from the AWS SDK's usual places (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, a profile, or the instance's role), never from a PORTAL_* setting."""

    kind: str = "local"
    bucket: str = ""
    # Empty is AWS itself; an S3-compatible store (MinIO, Ceph, a cloud's own) is named by its URL.
    endpoint_url: str = ""
    region: str = ""
    # Keys under this prefix only, so the bucket can hold other things and the sweep never touches them.
    prefix: str = "attachments/"


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
    # After SIGTERM, how long requests in flight have to finish before the instance exits anyway. Under the
    # 30 s most orchestrators wait before SIGKILL, so the portal, not the kill, ends what is left.
    shutdown_seconds: int = 25
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    clamd_socket: str = ""
    session_idle_minutes: int = 30
    # How long before the idle sign-out the page warns and offers to stay signed in (WCAG 2.2.1).
    session_warning_seconds: int = 120
    session_absolute_hours: int = 12
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
    # The next client key, published in the portal's JWKS before it signs anything (key rotation).
    oidc_next_key_file: str = ""
    oidc_next_key_id: str = ""
    # The regulator's own identity provider for its staff; None when staff sign in by email link only.
    staff_oidc: StaffOidc | None = None
    # Off in production makes staff sign in through their provider: a regulator member's email link is refused.
    staff_email_link: bool = True
    seed_demo: bool = False
    # The regulator's location IDs: a location added by an organisation admin must match this whole, and the
    # example (which must match it) is shown in the hint and the error message.
    location_id_pattern: str = r"1-[0-9]+"
    location_id_example: str = "1-123456789"
    # The bearer token Prometheus presents at /metrics; empty turns the endpoint off (it answers 404).
    metrics_token: str = ""
    # "plain" lines for a person at a terminal, or "json": one JSON object a line, for a log collector.
    log_format: str = "plain"
    # How long each kind of record is kept (portal/retention.py, run by `portal worker`; the privacy notice
    # states these). Submitted notifications are the regulator's record and are never deleted.
    retention: Retention = field(default_factory=lambda: Retention())
    object_store: ObjectStore = field(default_factory=lambda: ObjectStore())
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
            if len(secret.strip().encode()) < MIN_SECRET_BYTES:
                # It signs sessions' CSRF tokens and messages: a short one can be guessed offline.
                raise ConfigurationError(
                    f"PORTAL_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production; "
                    "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
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
        idle_minutes = number("PORTAL_SESSION_IDLE_MINUTES", 30)
        warning_seconds = number("PORTAL_SESSION_WARNING_SECONDS", 120)
        if idle_minutes < 1:
            raise ConfigurationError("PORTAL_SESSION_IDLE_MINUTES must be at least 1")
        if not 0 < warning_seconds < idle_minutes * 60:
            # A warning as long as the idle limit would be open from the moment every page loads.
            raise ConfigurationError(
                "PORTAL_SESSION_WARNING_SECONDS must be more than 0 and less than PORTAL_SESSION_IDLE_MINUTES"
            )
        webhook_url, webhook_secret = env.get("PORTAL_WEBHOOK_URL", "").strip(), env.get("PORTAL_WEBHOOK_SECRET", "")
        _check_webhook(webhook_url, webhook_secret, production=mode == "production")
        _check_oidc(env, production=mode == "production")
        location_pattern = env.get("PORTAL_LOCATION_ID_PATTERN") or cls.location_id_pattern
        location_example = env.get("PORTAL_LOCATION_ID_EXAMPLE") or cls.location_id_example
        _check_location_id_format(location_pattern, location_example)
        staff_oidc = _staff_oidc(env, production=mode == "production")
        retention = _retention(number, session_absolute_hours=number("PORTAL_SESSION_ABSOLUTE_HOURS", 12))
        metrics_token = env.get("PORTAL_METRICS_TOKEN", "").strip()
        if metrics_token and len(metrics_token) < 32:
            # The endpoint tells how busy the service is and how sign-ins fail: not for a guessable token.
            raise ConfigurationError(
                "PORTAL_METRICS_TOKEN must be at least 32 characters, or empty to turn /metrics off"
            )
        log_format = env.get("PORTAL_LOG_FORMAT", "plain")
        if log_format not in ("plain", "json"):
            raise ConfigurationError(f"PORTAL_LOG_FORMAT must be plain or json, not {log_format!r}")
        staff_email_link = env.get("PORTAL_STAFF_EMAIL_LINK", "on")
        if staff_email_link not in ("on", "off"):
            raise ConfigurationError(f"PORTAL_STAFF_EMAIL_LINK must be on or off, not {staff_email_link!r}")
        if staff_email_link == "off" and staff_oidc is None:
            # Otherwise no member of staff could sign in at all.
            raise ConfigurationError("PORTAL_STAFF_EMAIL_LINK=off needs PORTAL_STAFF_OIDC_ISSUER")
        object_store = _object_store(env)
        shutdown_seconds = number("PORTAL_SHUTDOWN_SECONDS", 25)
        if shutdown_seconds < 1:
            raise ConfigurationError("PORTAL_SHUTDOWN_SECONDS must be at least 1")
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
            shutdown_seconds=shutdown_seconds,
            max_request_bytes=number("PORTAL_MAX_REQUEST_BYTES", 2 * 1024 * 1024),
            max_upload_bytes=number("PORTAL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
            clamd_socket=env.get("PORTAL_CLAMD_SOCKET", ""),
            session_idle_minutes=idle_minutes,
            session_warning_seconds=warning_seconds,
            session_absolute_hours=number("PORTAL_SESSION_ABSOLUTE_HOURS", 12),
            email_sender=sender,
            mail_from=env.get("PORTAL_MAIL_FROM", cls.mail_from),
            smtp_host=env.get("PORTAL_SMTP_HOST", "127.0.0.1"),
            smtp_port=number("PORTAL_SMTP_PORT", 25),
            notify_api_key=env.get("PORTAL_NOTIFY_API_KEY", ""),
            notify_template_id=env.get("PORTAL_NOTIFY_TEMPLATE_ID", ""),
            notify_base_url=env.get("PORTAL_NOTIFY_BASE_URL", "").rstrip("/"),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            # Exactly as the provider publishes it: every id token's `iss` must equal it, trailing "/" included.
            oidc_issuer=env.get("PORTAL_OIDC_ISSUER", "").strip(),
            oidc_client_id=env.get("PORTAL_OIDC_CLIENT_ID", ""),
            oidc_private_key_file=env.get("PORTAL_OIDC_PRIVATE_KEY_FILE", ""),
            oidc_key_id=env.get("PORTAL_OIDC_KEY_ID", ""),
            oidc_scopes=env.get("PORTAL_OIDC_SCOPES", "openid email"),
            oidc_vtr=env.get("PORTAL_OIDC_VTR", '["Cl.Cm"]'),
            oidc_next_key_file=env.get("PORTAL_OIDC_NEXT_KEY_FILE", ""),
            oidc_next_key_id=env.get("PORTAL_OIDC_NEXT_KEY_ID", ""),
            staff_oidc=staff_oidc,
            staff_email_link=staff_email_link == "on",
            seed_demo=env.get("PORTAL_SEED_DEMO", "1" if mode == "development" else "0") == "1",
            location_id_pattern=location_pattern,
            location_id_example=location_example,
            metrics_token=metrics_token,
            log_format=log_format,
            retention=retention,
            object_store=object_store,
        )


def _object_store(env: Mapping[str, str]) -> ObjectStore:
    kind = env.get("PORTAL_STORAGE", "local")
    if kind not in ("local", "s3"):
        raise ConfigurationError(f"PORTAL_STORAGE must be local or s3, not {kind!r}")
    bucket = env.get("PORTAL_S3_BUCKET", "").strip()
    endpoint_url = env.get("PORTAL_S3_ENDPOINT_URL", "").strip()
    prefix = env.get("PORTAL_S3_PREFIX", ObjectStore.prefix)
    if kind == "local":
        return ObjectStore()
    if not bucket:
        raise ConfigurationError("PORTAL_STORAGE=s3 needs PORTAL_S3_BUCKET")
    if endpoint_url and not endpoint_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"PORTAL_S3_ENDPOINT_URL must be an http(s) URL, not {endpoint_url!r}")
    if prefix and (
        not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/", prefix)
        or any(part in (".", "..") for part in prefix.split("/"))
    ):
        # A prefix is a folder-like name ending in "/", so no key under it is also a key of something else.
        raise ConfigurationError("PORTAL_S3_PREFIX must be empty or folder names ending in /, such as attachments/")
    return ObjectStore(
        kind="s3",
        bucket=bucket,
        endpoint_url=endpoint_url,
        region=env.get("PORTAL_S3_REGION", "").strip(),
        prefix=prefix,
    )


def _retention(number, *, session_absolute_hours: int) -> Retention:
    days = {}
    for variable, attribute, least in Retention.VARIABLES:
        days[attribute] = number(variable, getattr(Retention, attribute))
        if days[attribute] < least:
            raise ConfigurationError(f"{variable} must be at least {least}")
    if days["sessions_days"] * 24 < session_absolute_hours:
        # A session's row is what keeps it signed in: deleting it sooner would sign people out early.
        raise ConfigurationError("PORTAL_RETAIN_SESSIONS_DAYS must be at least PORTAL_SESSION_ABSOLUTE_HOURS / 24")
    return Retention(**days)


def _staff_oidc(env: Mapping[str, str], *, production: bool) -> StaffOidc | None:
    try:
        return parse_staff_oidc(
            issuer=env.get("PORTAL_STAFF_OIDC_ISSUER", "").strip(),
            client_id=env.get("PORTAL_STAFF_OIDC_CLIENT_ID", ""),
            client_secret=env.get("PORTAL_STAFF_OIDC_CLIENT_SECRET", ""),
            private_key_file=env.get("PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE", ""),
            key_id=env.get("PORTAL_STAFF_OIDC_KEY_ID", ""),
            certificate_file=env.get("PORTAL_STAFF_OIDC_CERTIFICATE_FILE", ""),
            scopes=env.get("PORTAL_STAFF_OIDC_SCOPES", "openid email profile"),
            roles_claim=env.get("PORTAL_STAFF_OIDC_ROLES_CLAIM", "groups"),
            role_map=env.get("PORTAL_STAFF_OIDC_ROLE_MAP", ""),
            production=production,
        )
    except StaffOidcConfigError as error:
        raise ConfigurationError(str(error)) from None


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


def _check_oidc(env: Mapping[str, str], *, production: bool) -> None:
    """Everything One Login sign-in needs, checked before anyone is sent there: a fault found only after
    the round trip would show people an error they can do nothing about."""
    issuer, client_id = env.get("PORTAL_OIDC_ISSUER", "").strip(), env.get("PORTAL_OIDC_CLIENT_ID", "")
    if not issuer and not client_id:
        return
    if not (issuer and client_id):
        raise ConfigurationError("PORTAL_OIDC_ISSUER and PORTAL_OIDC_CLIENT_ID must be set together")
    problem = issuer_problem(issuer)
    if problem:
        raise ConfigurationError(
            f"PORTAL_OIDC_ISSUER must be an http(s) URL with a host and without a query, not {issuer!r}: it {problem}"
        )
    if production and not issuer.startswith("https://"):
        raise ConfigurationError("PORTAL_OIDC_ISSUER must use https in production")
    problem = scopes_problem("PORTAL_OIDC_SCOPES", env.get("PORTAL_OIDC_SCOPES", "openid email"))
    if problem:
        raise ConfigurationError(problem)
    _load_rsa_key("PORTAL_OIDC_PRIVATE_KEY_FILE", env.get("PORTAL_OIDC_PRIVATE_KEY_FILE", ""), private=True)
    key_id = env.get("PORTAL_OIDC_KEY_ID", "").strip()
    if not key_id:
        raise ConfigurationError("PORTAL_OIDC_KEY_ID must be set: the provider finds the portal's key by it")
    try:
        vectors_of_trust.requested(env.get("PORTAL_OIDC_VTR", '["Cl.Cm"]'))
    except vectors_of_trust.BadVector as error:
        raise ConfigurationError(f"PORTAL_OIDC_VTR: {error}") from None
    next_file, next_id = env.get("PORTAL_OIDC_NEXT_KEY_FILE", ""), env.get("PORTAL_OIDC_NEXT_KEY_ID", "").strip()
    if next_file or next_id:
        if not (next_file and next_id):
            raise ConfigurationError("PORTAL_OIDC_NEXT_KEY_FILE and PORTAL_OIDC_NEXT_KEY_ID must be set together")
        if next_id == key_id:
            raise ConfigurationError("PORTAL_OIDC_NEXT_KEY_ID must differ from PORTAL_OIDC_KEY_ID")
        _load_rsa_key("PORTAL_OIDC_NEXT_KEY_FILE", next_file, private=False)


def _load_rsa_key(name: str, path: str, *, private: bool) -> None:
    """A readable PEM RSA key of at least oidc_checks.MIN_RSA_BITS; private when it must sign, else either half."""
    if not path:
        raise ConfigurationError(f"{name} must be set with PORTAL_OIDC_ISSUER")
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise ConfigurationError(f"{name} cannot be read: {error.strerror or error} ({path})") from None
    key: object
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):  # TypeError: the key is encrypted, and the portal has no passphrase for it
        if private or b"PRIVATE KEY" in pem:
            raise ConfigurationError(f"{name} is not an unencrypted PEM private key ({path})") from None
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise ConfigurationError(f"{name} is not a PEM key ({path})") from None
    if not isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        raise ConfigurationError(f"{name} must hold an RSA key (RS256), not {type(key).__name__} ({path})")
    problem = rsa_size_problem(name, key.key_size)
    if problem:
        raise ConfigurationError(f"{problem} ({path})")


def _check_location_id_format(pattern: str, example: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ConfigurationError(f"PORTAL_LOCATION_ID_PATTERN is not a regular expression: {error}") from None
    if compiled.fullmatch(example) is None:
        # The example is what people are told to copy: one the portal would refuse would leave them stuck.
        raise ConfigurationError(
            f"PORTAL_LOCATION_ID_EXAMPLE {example!r} does not match PORTAL_LOCATION_ID_PATTERN {pattern!r}"
        )
    if len(example) > 40:
        raise ConfigurationError("PORTAL_LOCATION_ID_EXAMPLE must be at most 40 characters, as location IDs are")


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
