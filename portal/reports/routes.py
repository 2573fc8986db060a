"""Reports for support leads: an overview of all three, a page of charts by type, and each table as a CSV file."""

from __future__ import annotations

from starlette.responses import Response

from ..models import utcnow
from ..permissions import Permission
from ..web.routing import Ctx, Routes
from . import charts, lateness, service

routes = Routes("reports")


@routes.get("/support/reports", permission=Permission.REPORTS_VIEW)
def overview(ctx: Ctx):
    reports = service.all_reports(ctx.db)
    weekly_chart, weekly_summary = charts.weekly_total_chart(reports.weekly)
    queries_chart, queries_summary = charts.open_queries_chart(reports.queries)
    return ctx.render(
        "reports/overview.html",
        reports=reports,
        weekly_chart=weekly_chart,
        weekly_summary=weekly_summary,
        queries_chart=queries_chart,
        queries_summary=queries_summary,
        duration_words=service.duration_words,
    )


# A page of its own: a dozen small charts on the overview would take it past its page weight (40 KB).
@routes.get("/support/reports/submissions-by-type", permission=Permission.REPORTS_VIEW)
def submissions_by_type(ctx: Ctx):
    weekly = service.submissions_per_week(ctx.db, service.window())
    return ctx.render("reports/by_type.html", weekly=weekly, type_charts=charts.weekly_type_charts(weekly))


@routes.get("/support/reports/late-submissions", permission=Permission.REPORTS_VIEW)
def late_submissions(ctx: Ctx):
    report = lateness.late_submissions(ctx.db, service.window())
    chart, summary = charts.late_by_type_chart(report)
    return ctx.render(
        "reports/late.html",
        report=report,
        chart=chart,
        summary=summary,
        type_rows=lateness.rows([*report.by_type, report.overall]),
        location_rows=lateness.rows(report.by_location),
    )


def _download(ctx: Ctx, name: str) -> Response:
    now = utcnow()
    body = service.csv_text(service.DOWNLOADS[name](ctx.db, now))
    # The byte order mark tells Excel the file is UTF-8; without it, curly quotes in titles come out garbled.
    return Response(
        "\ufeff" + body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}-{now.date().isoformat()}.csv"',
            "cache-control": "private, no-store",
        },
    )


# One route per report, with no placeholder, so each path is a plain link and a plain entry in the route table.
@routes.get("/support/reports/submissions-per-week.csv", permission=Permission.REPORTS_VIEW)
def submissions_per_week_csv(ctx: Ctx):
    return _download(ctx, "submissions-per-week")


@routes.get("/support/reports/time-to-submit.csv", permission=Permission.REPORTS_VIEW)
def time_to_submit_csv(ctx: Ctx):
    return _download(ctx, "time-to-submit")


@routes.get("/support/reports/open-queries-by-age.csv", permission=Permission.REPORTS_VIEW)
def open_queries_by_age_csv(ctx: Ctx):
    return _download(ctx, "open-queries-by-age")


@routes.get("/support/reports/late-submissions.csv", permission=Permission.REPORTS_VIEW)
def late_submissions_csv(ctx: Ctx):
    return _download(ctx, "late-submissions")
