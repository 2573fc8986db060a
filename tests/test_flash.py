"""Success messages are shown once, to the browser whose change they report."""

from .conftest import post_form
from .test_regulator_api import create_token, token_id

MESSAGE = "API token revoked"


def revoke_a_token(lead, db_factory):
    create_token(lead, "Old intake")
    path = f"/support/api-tokens/{token_id(db_factory, 'Old intake')}/revoke"
    response = post_form(lead, path, from_page="/support/api-tokens")
    assert response.status_code == 303
    return response.cookies.get("portal_flash")


def test_the_message_shows_once_on_the_page_the_change_lands_on(lead, db_factory):
    assert revoke_a_token(lead, db_factory)
    assert MESSAGE in lead.get("/support/api-tokens").text
    assert MESSAGE not in lead.get("/support/api-tokens").text


def test_a_copied_message_cookie_shows_nothing_in_another_browser(lead, db_factory, as_person):
    cookie = revoke_a_token(lead, db_factory)
    other = as_person("lead@regulator.example")
    other.cookies.set("portal_flash", cookie)
    assert MESSAGE not in other.get("/support/api-tokens").text
    assert MESSAGE in lead.get("/support/api-tokens").text


def test_a_forged_message_cookie_shows_nothing(lead):
    lead.cookies.set("portal_flash", "WyJZb3UgaGF2ZSB3b24iXQ.forged.signature")
    assert "You have won" not in lead.get("/support/api-tokens").text
