"""Every form field renders through the GOV.UK field classes, so {{ field(form.x) }} works for each one."""

from __future__ import annotations

import importlib
import pkgutil

import wtforms

import portal
from portal.web.govuk_fields import PLAIN_FIELDS, GovukField


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_form_field_is_a_govuk_field():
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    forms = [form for form in _all_subclasses(wtforms.Form) if form.__module__.startswith("portal.")]
    assert forms, "no forms found"
    wrong = []
    for form in forms:
        for name, unbound in vars(form).items():
            if isinstance(unbound, wtforms.fields.core.UnboundField):
                field_class = unbound.field_class
                if not issubclass(field_class, (GovukField, *PLAIN_FIELDS)):
                    wrong.append(f"{form.__module__}.{form.__name__}.{name}: {field_class.__name__}")
    assert not wrong, "use a class from portal/web/govuk_fields.py: " + ", ".join(wrong)
