import pytest

PUBLIC_PAGES = [
    "/",
    "/sign-in",
    "/cookies",
    "/privacy",
    "/accessibility",
    "/help",
    "/signed-out",
    "/sign-in/check-email",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_renders_with_its_own_title(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "<title>" in response.text and "Submit a statutory notification</title>" in response.text
    assert response.text.count("<h1") == 1


def test_start_page_names_the_regulator_not_gov_uk(client):
    page = client.get("/").text
    assert "The Care Regulator" in page
    assert "govuk-header__logotype" not in page and "Crown copyright" not in page


def test_unknown_page_is_a_gov_uk_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_static_assets_are_hashed_and_cached_for_a_year(client):
    page = client.get("/").text
    import re

    css = re.search(r'href="(/static/app\.[0-9a-f]{12}\.css)"', page).group(1)
    response = client.get(css)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]


def test_responses_are_compressed(client):
    response = client.get("/accessibility", headers={"accept-encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"


def test_error_pages_keep_the_signed_in_persons_header_and_navigation(drafter):
    for path, status in (("/no-such-page", 404), ("/notifications/999999", 404), ("/support", 403)):
        page = drafter.get(path)
        assert page.status_code == status, path
        assert "Signed in as drafter@riverside.example" in page.text and "Sign out" in page.text, path


def test_api_errors_are_json_whatever_raised_them(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")
