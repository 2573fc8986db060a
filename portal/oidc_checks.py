"""Start-up checks shared by One Login's settings (settings.py) and the staff provider's (staff_oidc_config.py),
so the two refuse the same faults in the same words."""

from __future__ import annotations

from urllib.parse import urlsplit

# Client keys sign RS256 assertions (private_key_jwt); shorter RSA keys are refused by providers.
MIN_RSA_BITS = 2048


def issuer_problem(issuer: str) -> str | None:
    """Why an issuer setting cannot be a provider's issuer URL, or None when it can. Every id token's `iss`
    is compared with it exactly, so one that is not a URL would only fail after the person's round trip."""
    if any(character.isspace() for character in issuer):
        return "has a space in it"
    try:
        parts = urlsplit(issuer)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not host:
        return "is not an http(s) URL with a host"
    if parts.query or parts.fragment or "?" in issuer or "#" in issuer:
        return "has a query or a fragment"
    return None


def scopes_problem(name: str, scopes: str) -> str | None:
    """Without `openid` the provider answers as plain OAuth 2.0, with no id token: no sign-in could finish."""
    if "openid" not in scopes.split():
        return f"{name} must include openid, not {scopes!r}"
    return None


def rsa_size_problem(name: str, bits: int) -> str | None:
    if bits < MIN_RSA_BITS:
        return f"{name} must be an RSA key of at least {MIN_RSA_BITS} bits, not {bits}"
    return None
