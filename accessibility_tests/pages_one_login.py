"""The GOV.UK One Login problem page, in each of its states.

The browser reaches these only through a real provider, so test_axe_scan.test_one_login_problem_page
renders each in-process with the real app and scans it on the server's origin. Each state is the
failure reason the page chooses its words by (templates/accounts/one_login_problem.html).
"""

from __future__ import annotations

ONE_LOGIN_PROBLEMS = [
    ("cancelled", 400),
    ("bad state", 400),
    ("email not verified", 400),
    ("deactivated", 400),
    ("token refused", 400),
    # The provider said temporarily_unavailable, or could not be reached.
    ("provider unavailable", 503),
    # The portal's own settings or key are wrong: never shown as "not available".
    ("provider misconfigured", 500),
    # vot lower than the vtr asked for.
    ("level too low", 403),
    # A member of the regulator's staff, sent to the staff sign-in.
    ("regulator staff", 403),
]

# The regulator staff sign-in's problem page (templates/accounts/staff_problem.html), in the states a browser
# reaches only through a real staff provider that fails; test_staff_sign_in_pages.py goes through the others.
STAFF_PROBLEMS = [
    # The staff provider said temporarily_unavailable, could not be reached, or failed.
    ("provider unavailable", 503),
    # The portal's own staff settings are wrong: never shown as "not available".
    ("provider misconfigured", 500),
]
