import pytest

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
