"""What the accessibility statement says was tested, each claim tied to the test that checks it.

tests/test_accessibility_statement.py fails if a named test no longer exists, so the statement
cannot claim more than the suite does.
"""

CHECKS: list[tuple[str, str]] = [
    (
        "an automated scan with axe-core against WCAG 2.2 A and AA of every page, in each state (empty, with errors, as each role sees it)",
        "accessibility_tests/test_axe_scan.py::test_every_page_has_no_axe_violations",
    ),
    (
        "a check that every page the service serves is in the scanned list",
        "accessibility_tests/test_axe_scan.py::test_every_route_is_scanned",
    ),
    (
        "signing in and managing members with the keyboard alone, with focus always visible",
        "accessibility_tests/test_keyboard.py::test_sign_in_with_keyboard_alone",
    ),
    (
        "the skip link moves focus to the main content",
        "accessibility_tests/test_keyboard.py::test_skip_link_moves_focus_to_main_content",
    ),
    (
        "the error summary takes focus and its links move focus to the field",
        "accessibility_tests/test_keyboard.py::test_error_summary_takes_focus_and_links_to_field",
    ),
    (
        "the same journeys with JavaScript turned off",
        "accessibility_tests/test_no_javascript.py::test_sign_in_and_invite_without_javascript",
    ),
    (
        "each page has a unique title, one main heading and landmarks",
        "accessibility_tests/test_layout.py::test_titles_headings_and_landmarks",
    ),
    (
        "every control takes visible focus, in reading order, with no keyboard trap",
        "accessibility_tests/test_keyboard.py::test_every_control_takes_visible_focus_in_reading_order_with_no_trap",
    ),
    (
        "drafting a section with the keyboard alone",
        "accessibility_tests/test_keyboard.py::test_draft_a_section_with_keyboard_alone",
    ),
    (
        "the whole journey from draft to submission, with JavaScript on and off, scanned at every step",
        "accessibility_tests/test_journey.py::test_draft_review_change_approve_submit_and_deliver",
    ),
    (
        "reviewing and approving a notification with the keyboard alone, with JavaScript on and off",
        "accessibility_tests/test_keyboard_journeys.py::test_review_and_approve_with_keyboard_alone",
    ),
    (
        "submitting a notification with the keyboard alone, with JavaScript on and off",
        "accessibility_tests/test_keyboard_journeys.py::test_submit_with_keyboard_alone",
    ),
    (
        "asking the support team a question, their reply and its resolution, with the keyboard alone, with JavaScript on and off, scanned at every step",
        "accessibility_tests/test_keyboard_journeys.py::test_a_question_from_provider_to_support_reply_to_resolution_by_keyboard",
    ),
    (
        "every page state reflows at 320 CSS pixels, survives 200% text and text spacing, has one main heading, landmarks, a title that starts with Error when the form has errors, controls at least 24 by 24 CSS pixels, underlined links and tags with words, so nothing relies on colour alone",
        "accessibility_tests/test_layout.py::test_every_state_reflows_zooms_spaces_and_has_its_semantics",
    ),
    (
        "saving as you type is announced politely and never moves focus",
        "accessibility_tests/test_layout.py::test_autosave_is_announced_politely_and_never_moves_focus",
    ),
]

ACCESSIBILITY_CHECKS = [claim for claim, _ in CHECKS]
