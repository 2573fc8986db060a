"""Every htmx update lands in a live region, so a screen reader hears it, and none moves focus."""

from __future__ import annotations

import re

from .conftest import ROOT

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def htmx_targets() -> list[tuple[object, str]]:
    return [
        (path, target)
        for path in TEMPLATES
        for target in re.findall(r'hx-target="#([A-Za-z0-9_-]+)"', path.read_text())
    ]


def test_every_htmx_target_is_a_polite_live_region():
    targets = htmx_targets()
    assert targets, "no htmx updates found: this test would check nothing"
    for path, target in targets:
        element = re.search(rf'<[^>]*id="{target}"[^>]*>', path.read_text())
        assert element, f"{path.name}: hx-target #{target} is not in the same template"
        assert re.search(r'aria-live="polite"|role="status"', element.group(0)), (
            f"{path.name}: #{target} is not a live region"
        )


def test_no_htmx_update_moves_focus():
    for path in TEMPLATES:
        text = path.read_text()
        assert "hx-swap" not in text or not re.search(r'hx-swap="[^"]*focus-scroll:true', text), path.name
        assert "autofocus" not in text or "hx-" not in text, f"{path.name}: autofocus in an htmx fragment"
