"""Jinja's undefined values: strict where a mistake hides, lenient where GOV.UK Frontend expects it.

A misspelt variable (`{{ notifcation.id }}`) or attribute of an object (`{{ user.emial }}`) raises, rather
than rendering as blank. Two kinds of missing value stay empty and falsy, because the GOV.UK Frontend
templates test them that way by design: a key missing from a dict (every macro's `params`, and the
components' option dicts our templates build), and the names GOV.UK's templates read without ever
setting (the page template's optional variables such as `mainClasses`, and `undefined` in the macros).
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, Undefined, meta
from jinja2.utils import missing


@functools.cache
def _names_govuk_templates_read_but_never_set() -> frozenset[str]:
    # Parsing every GOV.UK template takes about half a second; their names only change with the package,
    # so once per process, not once per app (the tests make hundreds of apps).
    env = Environment(loader=PackageLoader("govuk_frontend_jinja", "templates"), autoescape=True)
    names: set[str] = set()
    for name in env.list_templates():
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]  # set just above
        names |= meta.find_undeclared_variables(env.parse(source))
    return frozenset(names)


def names_read_but_never_set(env: Environment) -> frozenset[str]:
    """Every name GOV.UK Frontend's templates read without defining, less this environment's globals:
    the page variables (`mainClasses`, `htmlLang`, …) and the names the macros use for "unset"
    (`undefined`, `null`)."""
    return _names_govuk_templates_read_but_never_set() - set(env.globals)


class PortalUndefined(Undefined):
    __slots__ = ()
    # Filled in by make_templates from the GOV.UK templates themselves (names_read_but_never_set).
    expected_names: frozenset[str] = frozenset()

    def _is_expected(self) -> bool:
        if self._undefined_obj is missing:
            # `caller` is Jinja's own, in a macro called without a call block; GOV.UK's macros test for it.
            return self._undefined_name in self.expected_names or self._undefined_name in (None, "caller")
        return isinstance(self._undefined_obj, dict)

    def _fail_unless_expected(self) -> None:
        if not self._is_expected():
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._fail_unless_expected()
        return ""

    def __iter__(self) -> Any:
        self._fail_unless_expected()
        return iter(())

    def __bool__(self) -> bool:
        self._fail_unless_expected()
        return False

    def __len__(self) -> int:
        self._fail_unless_expected()
        return 0

    def __eq__(self, other: object) -> bool:
        self._fail_unless_expected()
        return type(self) is type(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return id(type(self))

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        if self._is_expected():
            # params.prefix.text on a missing prefix: still nothing, as Jinja's default gives.
            return Undefined(hint=self._undefined_hint, obj=self._undefined_obj, name=self._undefined_name)
        self._fail_with_undefined_error()
