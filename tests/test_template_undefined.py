"""A misspelt name in a template fails loudly; GOV.UK Frontend's optional params stay optional."""

import pytest
from jinja2 import UndefinedError

from portal.web.templating import make_templates

ENV = make_templates().env


class Person:
    email = "a@example.org"


@pytest.mark.parametrize(
    "source",
    [
        "{{ notifcation.id }}",
        "{% if has_erors %}x{% endif %}",
        "{{ person.emial }}",
        "{% for x in itmes %}{% endfor %}",
    ],
)
def test_a_misspelt_variable_or_attribute_raises(source):
    with pytest.raises(UndefinedError):
        ENV.from_string(source).render(person=Person())


def test_a_missing_key_of_a_components_params_and_govuks_page_variables_are_empty():
    source = "[{% if params.hint %}hint{% endif %}{{ params.prefix.text }}{{ mainClasses }}]{{ x | default('d') }}"
    assert ENV.from_string(source).render(params={}) == "[]d"


def test_a_govuk_macro_renders_with_only_its_required_params():
    source = '{% from "govuk_frontend_jinja/components/inset-text/macro.html" import govukInsetText %}'
    assert "govuk-inset-text" in ENV.from_string(source + '{{ govukInsetText({"text": "Hello"}) }}').render()
