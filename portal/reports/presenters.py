"""The reports' tables as rows of text, figures formatted with thousands separators."""

from __future__ import annotations

from .service import AgeReport, TimeReport, WeeklyReport, duration_words


def _figures(counts: list[int], total: int) -> list[str]:
    return [f"{count:,}" for count in [*counts, total]]


def weekly_rows(weekly: WeeklyReport) -> list[list[str]]:
    # Short month names: the table is wide, and GOV.UK style allows them where space is tight.
    return [
        [row.start.strftime("%-d %b %Y") + (" (so far)" if row.current else ""), *_figures(row.counts, row.total)]
        for row in weekly.rows
    ]


def time_rows(times: TimeReport) -> list[list[str]]:
    return [
        [
            row.title,
            f"{row.submitted:,}",
            duration_words(row.draft_to_submission),
            duration_words(row.review_to_approval),
        ]
        for row in [*times.by_type, times.overall]
    ]


def age_rows(queries: AgeReport) -> list[list[str]]:
    return [[row.label, *_figures(row.counts, row.total)] for row in queries.rows]


TEMPLATE_GLOBALS = {"weekly_rows": weekly_rows, "time_rows": time_rows, "age_rows": age_rows}
