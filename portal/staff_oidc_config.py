"""The regulator's own identity provider for its staff (say Microsoft Entra ID): its settings, checked once.

Apart from GOV.UK One Login, which is for providers' staff. settings.py reads the PORTAL_STAFF_OIDC_*
variables and hands them here; anything wrong raises StaffOidcConfigError with a one-line reason, which
settings.py turns into a refusal to start. Nothing here reaches the provider: its discovery document is
read at the first sign-in, as One Login's is.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from .oidc_checks import issuer_problem, rsa_size_problem, scopes_problem
from .roles import ROLES


class StaffOidcConfigError(ValueError):
    """A one-line reason naming the variable that is wrong."""


@dataclass(frozen=True)
class StaffOidc:
    issuer: str
    client_id: str
    # One of the two authenticates the portal at the token endpoint: a secret (client_secret_basic) or
    # an RSA key (private_key_jwt, the stronger, which a secret-less registration in Entra ID uses).
    client_secret: str
    private_key_file: str
    key_id: str
    # The client assertion's header: `kid`, and with a certificate its thumbprints, which Entra ID reads
    # instead of `kid` to find the certificate it holds for the application.
    assertion_header: tuple[tuple[str, str], ...]
    scopes: str
    roles_claim: str
    # The claim's value (a group's object ID, an app role's name) -> the portal's regulator role.
    role_map: tuple[tuple[str, str], ...]

    def roles_for(self, claim_values: list[str]) -> list[str]:
        """The portal roles the claim's values map to, each once, in the map's order."""
        held = set(claim_values)
        roles: list[str] = []
        for value, role in self.role_map:
            if value in held and role not in roles:
                roles.append(role)
        return roles


def parse(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    private_key_file: str,
    key_id: str,
    scopes: str,
    roles_claim: str,
    role_map: str,
    production: bool,
    certificate_file: str = "",
) -> StaffOidc | None:
    """None when the issuer is empty: staff sign-in through a provider is off."""
    if not issuer:
        others = {
            "PORTAL_STAFF_OIDC_CLIENT_ID": client_id,
            "PORTAL_STAFF_OIDC_CLIENT_SECRET": client_secret,
            "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE": private_key_file,
            "PORTAL_STAFF_OIDC_ROLE_MAP": role_map,
            "PORTAL_STAFF_OIDC_CERTIFICATE_FILE": certificate_file,
        }
        given = [name for name, value in others.items() if value]
        if given:
            # Half a configuration is a mistake, not a choice to switch staff sign-in off.
            raise StaffOidcConfigError(f"{given[0]} is set but PORTAL_STAFF_OIDC_ISSUER is empty")
        return None
    problem = issuer_problem(issuer)
    if problem:
        raise StaffOidcConfigError(f"PORTAL_STAFF_OIDC_ISSUER must be an http(s) URL, not {issuer!r}: it {problem}")
    parts = urlsplit(issuer)
    if production and parts.scheme != "https":
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_ISSUER must use https in production")
    if not client_id:
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_CLIENT_ID must be set with PORTAL_STAFF_OIDC_ISSUER")
    if bool(client_secret) == bool(private_key_file):
        raise StaffOidcConfigError(
            "set exactly one of PORTAL_STAFF_OIDC_CLIENT_SECRET and PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE"
        )
    header: dict[str, str] = {}
    if certificate_file and not private_key_file:
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_CERTIFICATE_FILE needs PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE")
    if private_key_file:
        key = _check_key(private_key_file)
        if certificate_file:
            header.update(_thumbprints(certificate_file, key))
        elif not key_id:
            raise StaffOidcConfigError(
                "PORTAL_STAFF_OIDC_KEY_ID or PORTAL_STAFF_OIDC_CERTIFICATE_FILE must be set with "
                "PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE"
            )
        if key_id:
            header["kid"] = key_id
    problem = scopes_problem("PORTAL_STAFF_OIDC_SCOPES", scopes)
    if problem:
        raise StaffOidcConfigError(problem)
    if not roles_claim.strip():
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_ROLES_CLAIM must name the claim that holds groups or roles")
    return StaffOidc(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        private_key_file=private_key_file,
        key_id=key_id,
        assertion_header=tuple(sorted(header.items())),
        scopes=scopes,
        roles_claim=roles_claim.strip(),
        role_map=_role_map(role_map),
    )


def _check_key(path: str) -> RSAKey:
    try:
        with open(path, "rb") as handle:
            pem = handle.read()
    except OSError as error:
        raise StaffOidcConfigError(
            f"PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE cannot be read: {error.strerror or error}"
        ) from None
    try:
        key = RSAKey.import_key(pem)
    except (JoseError, ValueError, TypeError):
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE does not hold a PEM RSA key") from None
    if not key.is_private:
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE holds a public key; it needs the private key")
    problem = rsa_size_problem("PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE", key.raw_value.key_size)
    if problem:
        raise StaffOidcConfigError(problem)
    return key


def _thumbprints(path: str, key: RSAKey) -> dict[str, str]:
    """x5t and x5t#S256 (RFC 7515 4.1.7-8) of the certificate, which must be the key's own."""
    try:
        with open(path, "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
    except OSError as error:
        raise StaffOidcConfigError(
            f"PORTAL_STAFF_OIDC_CERTIFICATE_FILE cannot be read: {error.strerror or error}"
        ) from None
    except ValueError:
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_CERTIFICATE_FILE does not hold a PEM certificate") from None
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        # joserfc would raise on it: name the fault rather than stop start-up with a traceback.
        raise StaffOidcConfigError(
            "PORTAL_STAFF_OIDC_CERTIFICATE_FILE is not the certificate of PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE's key: "
            "it certifies a key that is not RSA"
        )
    certified = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    if RSAKey.import_key(certified).as_dict(private=False) != key.as_dict(private=False):
        raise StaffOidcConfigError(
            "PORTAL_STAFF_OIDC_CERTIFICATE_FILE is not the certificate of PORTAL_STAFF_OIDC_PRIVATE_KEY_FILE's key"
        )
    der = certificate.public_bytes(Encoding.DER)

    def encoded(digest: bytes) -> str:
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    # SHA-1 here only names a certificate, as Entra ID's x5t asks; it protects nothing.
    return {
        "x5t": encoded(hashlib.sha1(der, usedforsecurity=False).digest()),
        "x5t#S256": encoded(hashlib.sha256(der).digest()),
    }


def _role_map(raw: str) -> tuple[tuple[str, str], ...]:
    try:
        data = json.loads(raw or "")
    except json.JSONDecodeError:
        raise StaffOidcConfigError(
            'PORTAL_STAFF_OIDC_ROLE_MAP must be a JSON object, claim value to role: {"group-id": "support_agent"}'
        ) from None
    if not isinstance(data, dict) or not data:
        raise StaffOidcConfigError("PORTAL_STAFF_OIDC_ROLE_MAP must be a JSON object mapping at least one claim value")
    regulator_roles = sorted(name for name, role in ROLES.items() if role.scope == "regulator")
    pairs = []
    for value, role in data.items():
        if not isinstance(role, str) or role not in regulator_roles:
            # A provider's role here would let the regulator's directory make someone a drafter anywhere.
            raise StaffOidcConfigError(
                f"PORTAL_STAFF_OIDC_ROLE_MAP maps {value!r} to {role!r}; "
                f"a staff role must be one of {', '.join(regulator_roles)}"
            )
        pairs.append((value, role))
    return tuple(pairs)
