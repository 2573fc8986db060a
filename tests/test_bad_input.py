"""Random, huge, unicode, null-byte and wrong-type values sent to every form: always a page, never a 500."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ask_question, csrf_from
from .drafting import start_notification

NASTY = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.just("\x00" * 10),
    st.just("<script>alert(1)</script>"),
    st.just("x" * 200_000),
    st.just("../../../../etc/passwd"),
    st.just("-1"),
    st.just("1e309"),
    st.just("NaN"),
    st.just("٣"),
)
FORM_VALUES = st.one_of(NASTY, st.lists(NASTY, max_size=3))

# (who, the page with the form, where it posts): every form a person can fill in.
FORMS = [
    (None, "/sign-in", "/sign-in"),
    ("newcomer", "/organisations/request", "/organisations/request"),
    ("organisation_admin", "/members/invite", "/members/invite"),
    ("organisation_admin", "/members/{member}", "/members/{member}/roles"),
    ("drafter", "/notifications/new", "/notifications/new"),
    ("drafter", "/notifications/{notification}/sections/about_you", "/notifications/{notification}/sections/about_you"),
    ("drafter", "/notifications/{notification}/sections/person", "/notifications/{notification}/sections/person"),
    ("drafter", "/notifications/{notification}/sections/outcome", "/notifications/{notification}/sections/outcome"),
    ("drafter", "/notifications/{notification}", "/notifications/{notification}/assign"),
    ("drafter", "/notifications/{notification}/document", "/notifications/{notification}/comments"),
    ("organisation_admin", "/organisation/settings", "/organisation/settings"),
    ("organisation_admin", "/locations/new", "/locations/new"),
    ("organisation_admin", "/locations/{location}/change", "/locations/{location}/change"),
    ("drafter", "/queries/new", "/queries"),
    ("drafter", "/queries/{query}", "/queries/{query}/reply"),
    ("support_agent", "/support/queries/{query}", "/support/queries/{query}/reply"),
    ("support_agent", "/support/queries/{query}", "/support/queries/{query}/assign"),
]


def field_names(html: str) -> list[str]:
    names = set(re.findall(r'name="([^"]+)"', html)) - {"csrf_token"}
    return sorted(names)


@pytest.mark.parametrize("who,page,action", FORMS)
def test_any_input_gets_a_page_never_a_500(who, page, action, as_person, as_role, client, demo_org, db_factory):
    from .conftest import membership_id

    actor = client if who is None else (as_person("newcomer@example.com") if who == "newcomer" else as_role(who))
    values = {"member": membership_id(db_factory, "reviewer@riverside.example", demo_org["id"])}
    if "{notification}" in page:
        values["notification"] = start_notification(as_role("drafter"), "dols_outcome", demo_org["locations"][0][0])
    if "{location}" in page:
        values["location"] = demo_org["locations"][1][0]
    if "{query}" in page:
        values["query"] = ask_question(as_role("drafter"), "Help", "Please")
    page, action = page.format(**values), action.format(**values)
    html = actor.get(page).text
    names = field_names(html)
    assert names, f"no form fields on {page}"
    token = csrf_from(actor, page)

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries({}, optional={name: FORM_VALUES for name in names}))
    def send(form):
        response = actor.post(action, data={**form, "csrf_token": token})
        assert response.status_code < 500, response.text[-800:]
        assert "Traceback" not in response.text
        if response.status_code in (400, 409):
            assert "govuk-error-summary" in response.text or "govuk-heading-l" in response.text
        assert "<script>alert(1)</script>" not in response.text

    send()
