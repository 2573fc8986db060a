"""bandit runs offline over the portal: nothing may be reported unless a comment beside it says why."""

import json
import subprocess
import sys

from .conftest import ROOT


def test_bandit_reports_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "portal", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(result.stdout)["results"]
    assert findings == [], "\n".join(
        f"{f['filename']}:{f['line_number']} {f['test_id']} {f['issue_text']}" for f in findings
    )
