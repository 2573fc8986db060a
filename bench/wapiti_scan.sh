#!/usr/bin/env bash
# The security scan of tests/test_wapiti_scan.py in full: no time limit per attack module that a normal
# run reaches, and with permanentxss (stored cross-site scripting), which re-posts every form value
# the xss module left with each of its payloads and so takes most of the time. About 8 minutes
# on two cores. Needs Debian's wapiti (`make test` installs it). The report is written to
# test-artifacts/wapiti-report.json and wapiti's own log to test-artifacts/wapiti.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export WAPITI_MODULE_SECONDS="${WAPITI_MODULE_SECONDS:-600}"
export WAPITI_MODULES="${WAPITI_MODULES:-xss,permanentxss,sql,exec,file,redirect,crlf,csrf,http_headers,cookieflags,csp,methods}"
exec .venv/bin/python -m pytest -p no:cacheprovider -s tests/test_wapiti_scan.py -k signed_in_scan "$@"
