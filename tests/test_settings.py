import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from portal import vectors_of_trust
from portal.settings import ConfigurationError, Settings


def test_development_defaults_to_sqlite_in_the_data_dir(tmp_path):
    settings = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'portal.sqlite3'}"
    assert settings.env == "development"


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key
    second = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) > 40


def test_production_without_a_secret_stops_with_one_line():
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(
            {
                "PORTAL_ENV": "production",
                "PORTAL_DATABASE_URL": "postgresql://x/y",
                "PORTAL_CLAMD_SOCKET": "/run/clamd.ctl",
            }
        )
    assert "PORTAL_SECRET_KEY" in str(error.value.code) and "\n" not in str(error.value.code)


def test_production_refuses_to_accept_uploads_without_a_virus_scanner():
    env = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 40, "PORTAL_DATABASE_URL": "postgresql://x/y"}
    with pytest.raises(ConfigurationError, match="PORTAL_CLAMD_SOCKET"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "PORTAL_CLAMD_SOCKET": "/run/clamd.ctl"}).clamd_socket == "/run/clamd.ctl"


def test_production_refuses_sqlite_without_opt_in():
    env = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 40, "PORTAL_CLAMD_SOCKET": "/run/clamd.ctl"}
    with pytest.raises(ConfigurationError, match="PORTAL_ALLOW_SQLITE"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "PORTAL_ALLOW_SQLITE": "1"}).is_sqlite


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigurationError):
        Settings.from_env({"PORTAL_ENV": "staging"})


def test_production_refuses_a_short_secret_with_a_one_line_reason():
    env = {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "x",
        "PORTAL_DATABASE_URL": "postgresql://x/y",
        "PORTAL_CLAMD_SOCKET": "/run/clamd.ctl",
    }
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(env)
    assert "at least 32 bytes" in str(error.value.code) and "\n" not in str(error.value.code)
    assert Settings.from_env({**env, "PORTAL_SECRET_KEY": "k" * 32}).secret_key == "k" * 32


def test_the_location_id_format_defaults_to_the_regulators_and_can_be_configured(tmp_path):
    default = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)})
    assert (default.location_id_pattern, default.location_id_example) == ("1-[0-9]+", "1-123456789")
    custom = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_LOCATION_ID_PATTERN": "LOC[0-9]{4}",
            "PORTAL_LOCATION_ID_EXAMPLE": "LOC0001",
        }
    )
    assert (custom.location_id_pattern, custom.location_id_example) == ("LOC[0-9]{4}", "LOC0001")


@pytest.mark.parametrize(
    "env,reason",
    [
        ({"PORTAL_LOCATION_ID_PATTERN": "1-[0-9"}, "is not a regular expression"),
        ({"PORTAL_LOCATION_ID_PATTERN": "LOC[0-9]{4}"}, "does not match"),  # the default example no longer fits
        ({"PORTAL_LOCATION_ID_EXAMPLE": "1-12x"}, "does not match"),
        ({"PORTAL_LOCATION_ID_EXAMPLE": "1-" + "1" * 40}, "at most 40 characters"),
    ],
)
def test_a_location_id_format_people_could_not_follow_stops_start_up(env, reason, tmp_path):
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), **env})
    assert reason in str(error.value.code) and "\n" not in str(error.value.code)


# GOV.UK One Login's settings, checked before anyone is sent to sign in ------------------------------


def _rsa_key_file(path, bits=2048, *, private=True):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if private:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path.write_bytes(pem)
    return str(path)


@pytest.fixture(scope="module")
def oidc_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oidc-keys")
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "ec.pem").write_bytes(ec_key)
    (folder / "garbage.pem").write_text("not a key")
    return {
        "good": _rsa_key_file(folder / "good.pem"),
        "next": _rsa_key_file(folder / "next-public.pem", private=False),
        "small": _rsa_key_file(folder / "small.pem", bits=1024),
        "public": _rsa_key_file(folder / "public.pem", private=False),
        "ec": str(folder / "ec.pem"),
        "garbage": str(folder / "garbage.pem"),
        "missing": str(folder / "missing.pem"),
    }


def _oidc_env(tmp_path, oidc_keys, **changes):
    env = {
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_OIDC_ISSUER": "https://oidc.integration.account.gov.uk/",
        "PORTAL_OIDC_CLIENT_ID": "client",
        "PORTAL_OIDC_PRIVATE_KEY_FILE": oidc_keys["good"],
        "PORTAL_OIDC_KEY_ID": "key-1",
    }
    env.update({f"PORTAL_OIDC_{name.upper()}": value for name, value in changes.items()})
    return {name: value for name, value in env.items() if value is not None}


def test_good_one_login_settings_start_and_keep_the_issuer_exactly_as_written(tmp_path, oidc_keys):
    settings = Settings.from_env(
        _oidc_env(tmp_path, oidc_keys, next_key_file=oidc_keys["next"], next_key_id="key-2", vtr='["Cl"]')
    )
    assert settings.oidc_issuer == "https://oidc.integration.account.gov.uk/"
    assert (settings.oidc_next_key_file, settings.oidc_next_key_id) == (oidc_keys["next"], "key-2")


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"client_id": None}, "PORTAL_OIDC_ISSUER and PORTAL_OIDC_CLIENT_ID must be set together"),
        ({"issuer": "oidc.account.gov.uk"}, "PORTAL_OIDC_ISSUER must be an http(s) URL"),
        ({"issuer": "https://"}, "it is not an http(s) URL with a host"),
        ({"issuer": "https:///path"}, "it is not an http(s) URL with a host"),
        ({"issuer": "https://oidc .account.gov.uk/"}, "it has a space in it"),
        ({"issuer": "https://oidc.account.gov.uk:port/"}, "it is not a URL"),
        ({"issuer": "https://oidc.account.gov.uk/?a=1"}, "it has a query or a fragment"),
        ({"private_key_file": None}, "PORTAL_OIDC_PRIVATE_KEY_FILE must be set"),
        ({"private_key_file": "missing"}, "PORTAL_OIDC_PRIVATE_KEY_FILE cannot be read"),
        ({"private_key_file": "garbage"}, "PORTAL_OIDC_PRIVATE_KEY_FILE is not an unencrypted PEM private key"),
        ({"private_key_file": "public"}, "PORTAL_OIDC_PRIVATE_KEY_FILE is not an unencrypted PEM private key"),
        ({"private_key_file": "ec"}, "PORTAL_OIDC_PRIVATE_KEY_FILE must hold an RSA key"),
        ({"private_key_file": "small"}, "at least 2048 bits"),
        ({"key_id": None}, "PORTAL_OIDC_KEY_ID must be set"),
        ({"scopes": "email"}, "PORTAL_OIDC_SCOPES must include openid, not 'email'"),
        ({"scopes": "openidemail"}, "PORTAL_OIDC_SCOPES must include openid"),
        ({"key_id": "  "}, "PORTAL_OIDC_KEY_ID must be set"),
        ({"vtr": "Cl.Cm"}, "PORTAL_OIDC_VTR: 'Cl.Cm' is not JSON"),
        ({"vtr": '"Cl.Cm"'}, "is not a JSON list of vectors"),
        ({"vtr": "[]"}, "is not a JSON list of vectors"),
        ({"vtr": '["Cl.Xm"]'}, "'Cl.Xm' is not a vector of trust"),
        ({"vtr": '["P2"]'}, "has a vector without an authentication level"),
        ({"next_key_file": "next"}, "PORTAL_OIDC_NEXT_KEY_FILE and PORTAL_OIDC_NEXT_KEY_ID must be set together"),
        ({"next_key_file": "next", "next_key_id": "key-1"}, "must differ from PORTAL_OIDC_KEY_ID"),
        ({"next_key_file": "garbage", "next_key_id": "key-2"}, "PORTAL_OIDC_NEXT_KEY_FILE is not a PEM key"),
    ],
)
def test_each_bad_one_login_setting_stops_start_up_with_its_reason(tmp_path, oidc_keys, changes, reason):
    changes = {name: oidc_keys.get(value, value) if value else value for name, value in changes.items()}
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(_oidc_env(tmp_path, oidc_keys, **changes))
    assert reason in str(error.value.code)
    assert "\n" not in str(error.value.code)


def test_one_login_needs_https_in_production(tmp_path, oidc_keys):
    env = _oidc_env(tmp_path, oidc_keys, issuer="http://oidc.example/")
    env.update(
        PORTAL_ENV="production",
        PORTAL_SECRET_KEY="s" * 40,
        PORTAL_DATABASE_URL="postgresql://x/y",
        PORTAL_CLAMD_SOCKET="/run/clamd.ctl",
    )
    with pytest.raises(ConfigurationError, match="PORTAL_OIDC_ISSUER must use https in production"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "vot,vtr,accepted",
    [
        ("Cl.Cm", '["Cl.Cm"]', True),
        ("Cl", '["Cl.Cm"]', False),
        ("Cl.Cm", '["Cl"]', True),
        ("Cl", '["Cl.Cm", "Cl"]', True),
        ("P2.Cl.Cm", '["P2.Cl.Cm"]', True),
        (None, '["Cl.Cm"]', False),
        ("", '["Cl"]', False),
        ("Cm.Cl", '["Cl.Cm"]', True),
        ("nonsense", '["Cl"]', False),
    ],
)
def test_a_vot_is_accepted_only_when_it_meets_a_requested_vector(vot, vtr, accepted):
    assert vectors_of_trust.satisfies(vot, vtr) is accepted


# Where uploaded files are kept ---------------------------------------------------------------------


def test_files_are_local_by_default_and_in_a_bucket_when_configured(tmp_path):
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).object_store.kind == "local"
    store = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_STORAGE": "s3",
            "PORTAL_S3_BUCKET": "care-files",
            "PORTAL_S3_ENDPOINT_URL": "http://minio:9000",
            "PORTAL_S3_REGION": "eu-west-2",
        }
    ).object_store
    assert (store.kind, store.bucket, store.endpoint_url, store.region, store.prefix) == (
        "s3",
        "care-files",
        "http://minio:9000",
        "eu-west-2",
        "attachments/",
    )


@pytest.mark.parametrize(
    "env,reason",
    [
        ({"PORTAL_STORAGE": "disk"}, "PORTAL_STORAGE must be local or s3"),
        ({"PORTAL_STORAGE": "s3"}, "needs PORTAL_S3_BUCKET"),
        ({"PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": "b", "PORTAL_S3_ENDPOINT_URL": "minio:9000"}, "http(s) URL"),
        ({"PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": "b", "PORTAL_S3_PREFIX": "files"}, "ending in /"),
        ({"PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": "b", "PORTAL_S3_PREFIX": "../x/"}, "ending in /"),
        ({"PORTAL_SHUTDOWN_SECONDS": "0"}, "PORTAL_SHUTDOWN_SECONDS must be at least 1"),
    ],
)
def test_storage_and_shutdown_settings_that_cannot_work_stop_start_up(env, reason, tmp_path):
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), **env})
    assert reason in str(error.value.code) and "\n" not in str(error.value.code)
