"""Page weight: the HTML of each page, raw and gzipped, and what a first visit downloads.

Against a running portal, signed in with a session made in its database:

    python bench/page_weight.py --base http://127.0.0.1:8000 --database postgresql://postgres@127.0.0.1:5432/portal_bench

or let it start one (2 workers) against a seeded database and stop it afterwards:

    python bench/page_weight.py --database postgresql://postgres@127.0.0.1:5432/portal_bench

or with a session cookie you already have (from a browser's developer tools):

    python bench/page_weight.py --base http://127.0.0.1:8000 --cookie portal_session=...

Signs in as --email (default: a drafter of the first seeded organisation), finds a draft notification
from the list (or takes --notification), and fetches the start page and sign-in page (signed out),
then the dashboard, the list, the task list, a section, the whole document and any --page given.
For each: the HTML's size raw, gzipped here (level 6), and as the server sent it (its own gzip).
Then the first visit: the start page's HTML plus every stylesheet, script (and the modules those
scripts import) and icon it links, compressed as sent. Writes bench/results/page-weight-<time>.json.

Targets: HTML under 40 KB (under 10 KB compressed); first visit under 200 KB compressed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

HTML_RAW_LIMIT = 40 * 1024
HTML_GZIP_LIMIT = 10 * 1024
FIRST_VISIT_LIMIT = 200 * 1024

ASSET_RE = re.compile(r'<(?:link|script)\b[^>]*?(?:href|src)="([^"]+)"[^>]*>', re.I)
REL_RE = re.compile(r'\brel="([^"]+)"', re.I)
IMPORT_RE = re.compile(r"""(?:\bimport\b[^"'()]*?\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+\.m?js)["']""")
CSS_URL_RE = re.compile(r'url\(\s*["\']?([^"\')]+)["\']?\s*\)')


def fetch(client, path: str) -> dict:
    response = client.get(path)
    body = response.content
    return {
        "path": path,
        "status": response.status_code,
        "raw": len(body),
        "gzip": len(gzip.compress(body, compresslevel=6)),
        "sent": response.num_bytes_downloaded,
        "encoding": response.headers.get("content-encoding", "identity"),
        "text": response.text,
    }


def linked_assets(html: str, base: str) -> list[tuple[str, str]]:
    """(kind, path) for each stylesheet, script and icon a page links, on this site."""
    found = []
    for match in ASSET_RE.finditer(html):
        tag, url = match.group(0), match.group(1)
        if tag.lower().startswith("<link"):
            rel = (REL_RE.search(tag).group(1) if REL_RE.search(tag) else "").lower()
            if "stylesheet" in rel:
                kind = "css"
            elif "icon" in rel:
                kind = "icon"
            else:
                continue
        else:
            kind = "js"
        absolute = urljoin(base + "/", url)
        if urlsplit(absolute).netloc == urlsplit(base).netloc:
            found.append((kind, urlsplit(absolute).path))
    return found


def first_visit(client, base: str, start_html: str, start_sent: int) -> dict:
    queue = linked_assets(start_html, base)
    seen: set[str] = set()
    assets = []
    missing = []
    while queue:
        kind, path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        got = fetch(client, path)
        if got["status"] != 200:
            missing.append({"path": path, "status": got["status"]})
            continue
        assets.append({"kind": kind, "path": path, "raw": got["raw"], "gzip": got["gzip"], "sent": got["sent"]})
        if kind == "js":  # modules the script imports are downloaded too
            for name in IMPORT_RE.findall(got["text"]):
                queue.append(("js", urlsplit(urljoin(base + path, name)).path))
    # Images a stylesheet names are fetched only when a page uses them; reported, not counted.
    css_refs = sorted(
        {
            u
            for a in assets
            if a["kind"] == "css"
            for u in CSS_URL_RE.findall(client.get(a["path"]).text)
            if not u.startswith("data:")
        }
    )
    total_sent = start_sent + sum(a["sent"] for a in assets)
    total_gzip = sum(a["gzip"] for a in assets)
    return {
        "assets": assets,
        "missing": missing,
        "css_references": css_refs,
        "total_sent": total_sent,
        "total_gzip_assets": total_gzip,
    }


def find_pages(client, notification: int | None) -> list[tuple[str, str]]:
    pages = [("dashboard", "/dashboard"), ("notifications list", "/notifications")]
    if notification is None:
        listing = client.get("/notifications?status=draft").text
        match = re.search(r'href="/notifications/(\d+)"', listing)
        notification = int(match.group(1)) if match else None
    if notification is None:
        print("  (no draft notification found: task list, section and document left out)")
        return pages
    pages.append(("task list", f"/notifications/{notification}"))
    task_list = client.get(f"/notifications/{notification}").text
    section = re.search(rf'href="(/notifications/{notification}/sections/[a-z0-9_]+)"', task_list)
    if section:
        pages.append(("section", section.group(1)))
    pages.append(("whole document", f"/notifications/{notification}/document"))
    return pages


def session_from_database(database: str, email: str | None) -> dict:
    import psycopg

    with psycopg.connect(common.plain_url(database), autocommit=True) as conn:
        if email:
            row = conn.execute(
                "SELECT u.id, m.organisation_id FROM users u JOIN memberships m ON m.user_id = u.id"
                " WHERE u.email = %s ORDER BY m.id LIMIT 1",
                (email.lower(),),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT m.user_id, m.organisation_id FROM memberships m JOIN role_grants g ON g.membership_id = m.id"
                " JOIN organisations o ON o.id = m.organisation_id WHERE o.kind = 'provider'"
                " AND g.role = 'drafter' AND g.location_id IS NULL ORDER BY m.organisation_id, m.user_id LIMIT 1"
            ).fetchone()
        if row is None:
            raise SystemExit(f"no such member: {email or 'any drafter'}")
        cookies, _ = common.signed_in_cookies(conn, row[0], row[1])
    return cookies


def kb(n: int) -> float:
    return n / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="a running portal, e.g. http://127.0.0.1:8000 (default: start one)")
    parser.add_argument("--database", help="its database: a session is made there for --email")
    parser.add_argument("--email", help="who to sign in as (default: a drafter of the first organisation)")
    parser.add_argument(
        "--cookie",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="cookies to send instead of making a session (portal_session=...)",
    )
    parser.add_argument("--notification", type=int, help="the notification for the task list, section, document")
    parser.add_argument("--page", action="append", default=[], help="another signed-in path to weigh")
    args = parser.parse_args(argv)
    if not args.base and not args.database:
        parser.error("give --base (a running portal) or --database (to start one), or both")
    import httpx

    cookies = dict(c.split("=", 1) for c in args.cookie) if args.cookie else None
    if cookies is None:
        if not args.database:
            parser.error("give --database to make a session, or --cookie portal_session=...")
        cookies = session_from_database(args.database, args.email)

    process = None
    base = args.base
    if not base:
        process, base, _ = common.start_portal(args.database, log_name="page-weight")
    base = base.rstrip("/")
    try:
        rows = []
        with httpx.Client(base_url=base, timeout=30, headers={"accept-encoding": "gzip"}) as anonymous:
            start = fetch(anonymous, "/")
            rows.append(("start page", start))
            rows.append(("sign in", fetch(anonymous, "/sign-in")))
            visit = first_visit(anonymous, base, start["text"], start["sent"])
        with httpx.Client(base_url=base, timeout=30, cookies=cookies, headers={"accept-encoding": "gzip"}) as client:
            if client.get("/dashboard").status_code != 200:
                raise SystemExit("not signed in: /dashboard did not answer 200")
            pages = find_pages(client, args.notification) + [(path, path) for path in args.page]
            for name, path in pages:
                rows.append((name, fetch(client, path)))
    finally:
        if process is not None:
            common.stop(process)

    print(f"HTML (targets: under {kb(HTML_RAW_LIMIT):.0f} KB raw, under {kb(HTML_GZIP_LIMIT):.0f} KB compressed)")
    table = []
    over = []
    for name, page in rows:
        ok = page["status"] == 200 and page["raw"] < HTML_RAW_LIMIT and page["gzip"] < HTML_GZIP_LIMIT
        if not ok:
            over.append(name)
        table.append(
            [
                name,
                page["path"],
                page["status"],
                kb(page["raw"]),
                kb(page["gzip"]),
                kb(page["sent"]),
                "ok" if ok else "OVER",
            ]
        )
    common.print_table(["page", "path", "status", "raw KB", "gzip KB", "sent KB", ""], table)

    print(f"\nfirst visit of the start page (target: under {kb(FIRST_VISIT_LIMIT):.0f} KB compressed)")
    common.print_table(
        ["asset", "kind", "raw KB", "gzip KB", "sent KB"],
        [["(start page HTML)", "html", kb(start["raw"]), kb(start["gzip"]), kb(start["sent"])]]
        + [[a["path"], a["kind"], kb(a["raw"]), kb(a["gzip"]), kb(a["sent"])] for a in visit["assets"]],
    )
    total_gzip = start["gzip"] + visit["total_gzip_assets"]
    print(
        f"total: {kb(visit['total_sent']):.1f} KB as sent, {kb(total_gzip):.1f} KB gzipped here -> "
        + ("ok" if max(visit["total_sent"], total_gzip) < FIRST_VISIT_LIMIT else "OVER")
    )
    for miss in visit["missing"]:
        print(f"  linked but not served: {miss['path']} ({miss['status']})")
    if visit["css_references"]:
        print(f"  images the stylesheet names (fetched only if a page uses them): {', '.join(visit['css_references'])}")

    common.RESULTS.mkdir(parents=True, exist_ok=True)
    out = common.RESULTS / f"page-weight-{common.stamp()}.json"
    out.write_text(
        json.dumps(
            {
                "base": base,
                "pages": {name: {k: v for k, v in page.items() if k != "text"} for name, page in rows},
                "first_visit": {
                    **visit,
                    "html": {k: v for k, v in start.items() if k != "text"},
                    "total_gzip": total_gzip,
                },
                "limits": {"html_raw": HTML_RAW_LIMIT, "html_gzip": HTML_GZIP_LIMIT, "first_visit": FIRST_VISIT_LIMIT},
                "over": over,
            },
            indent=2,
        )
    )
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
