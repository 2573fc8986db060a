"""Geometry for the reports' bar charts; templates/reports/_chart.html draws them as inline SVG.

Heights and offsets are in em, so a chart grows with its text when someone enlarges the text. Bar
lengths are percentages of the chart's width, so a chart fits any screen without shrinking its
text, as a scaled viewBox would. Every bar carries its value as text, so nothing depends on colour.
"""

from __future__ import annotations

from dataclasses import dataclass

# The narrowest a chart is drawn, in ems of its text (govuk-body-s, 16px at 100%): a full-width chart on a
# 320 CSS pixel screen less the page margins is 18em; a half-width one at 200% text on a desktop is 14em.
NARROWEST_EM = 18.0
NARROWEST_HALF_EM = 14.0
# A generous average character width of the system font, so estimated text never runs past the edge.
CHAR_EM = 0.6
ROW_EM = 1.8
BAR_EM = 1.1
GAP_EM = 0.3  # between a bar's end and its value


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    value_text: str
    baseline: float  # em from the top of the chart to the baseline of the row's text
    percent: float  # where the bar ends, as a percentage of the chart's width from the bars' start


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    bars: tuple[Bar, ...]
    label_width: float  # em: the labels' column, left of the bars
    area: float  # percent of the chart's width a bar of the largest value takes
    path: str  # every bar, in a box 100 wide and one unit per row, stretched over the bars' area

    @property
    def height(self) -> float:
        return round(len(self.bars) * ROW_EM, 2)

    @property
    def value_offset(self) -> float:
        return round(self.label_width + GAP_EM, 2)


def _short(number: float) -> str:
    """'0.19' as '.19' and '100.0' as '100': a page of small charts repeats these hundreds of times."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return text[1:] if text.startswith("0.") else text


def bar_chart(
    chart_id: str,
    title: str,
    items: list[tuple[str, int]],
    *,
    scale: int | None = None,
    narrowest: float = NARROWEST_EM,
) -> BarChart:
    """Horizontal bars, one row each: label, bar, value. `scale` shares one scale between charts."""
    values = [value for _, value in items]
    texts = [f"{value:,}" for value in values]
    top = scale if scale is not None else max(values, default=0)
    label_width = round(max((len(label) for label, _ in items), default=0) * CHAR_EM + 0.4, 1)
    # Sized by the scale's largest value, not this chart's, so charts sharing a scale share their geometry.
    value_width = len(f"{top:,}") * CHAR_EM
    # The longest bar leaves room for its value at the narrowest the chart is drawn; wider leaves more.
    area = max(0.2, min(0.9, (narrowest - label_width - GAP_EM - value_width) / narrowest))
    lengths = [100 * value / top if top else 0.0 for value in values]
    inset, thickness = (ROW_EM - BAR_EM) / 2 / ROW_EM, BAR_EM / ROW_EM
    # One path for all the bars keeps a page of twelve small charts light; an empty bar draws nothing.
    path = "".join(
        f"M0 {_short(index + inset)}h{_short(length)}v{_short(thickness)}H0z"
        for index, length in enumerate(lengths)
        if length
    )
    bars = tuple(
        Bar(
            label=label,
            value=value,
            value_text=text,
            baseline=round(index * ROW_EM + 1.15, 2),
            percent=round(length * area, 1),
        )
        for index, ((label, value), text, length) in enumerate(zip(items, texts, lengths, strict=False))
    )
    return BarChart(id=chart_id, title=title, bars=bars, label_width=label_width, area=round(100 * area, 1), path=path)


# The reports' charts ------------------------------------------------------------------------------


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def _day_month(day) -> str:
    return f"{day.day} {day:%B}"


def _week_label(day) -> str:
    return f"{day.day} {day:%b}"


def weekly_total_chart(report) -> tuple[BarChart, str]:
    """The chart of all submissions per week, and the sentence that describes it."""
    chart = bar_chart(
        "weekly-total",
        f"Notifications submitted per week, {len(report.rows)} weeks from "
        f"{_day_month(report.rows[0].start)} {report.rows[0].start.year}",
        [(_week_label(row.start), row.total) for row in report.rows],
    )
    first = f"{_day_month(report.rows[0].start)} {report.rows[0].start.year}"
    if not report.total:
        return chart, f"No notifications were submitted in the {len(report.rows)} weeks starting {first}."
    busiest = report.busiest()
    this_week = report.rows[-1].total
    return chart, (
        f"{_plural(report.total, 'notification')} submitted in the {len(report.rows)} weeks starting {first}, "
        f"{this_week:,} of them so far this week. The busiest week was the week starting "
        f"{_day_month(busiest.start)}, with {busiest.total:,}."
    )


def weekly_type_charts(report) -> list[tuple[str, BarChart, str]]:
    """One small chart per type that had submissions, all on one scale so they compare fairly.

    Drawn two to a row on wide screens, so they leave room for their values at half the width.
    """
    scale = max((count for row in report.rows for count in row.counts), default=0)
    charts = []
    for index, column in enumerate(report.types):
        counts = report.by_type(index)
        chart = bar_chart(
            f"weekly-type-{index}",
            f"{column.title}: submitted per week",
            [(_week_label(row.start), count) for row, count in zip(report.rows, counts, strict=False)],
            scale=scale,
            narrowest=NARROWEST_HALF_EM,
        )
        most = max(counts)
        week = report.rows[counts.index(most)].start
        summary = (
            f"{_plural(sum(counts), 'notification')} in these weeks. The most in one week was {most:,}, "
            f"in the week starting {_day_month(week)}."
        )
        charts.append((column.title, chart, summary))
    return charts


def open_queries_chart(report) -> tuple[BarChart, str]:
    chart = bar_chart("open-queries", "Open queries by age", [(row.label, row.total) for row in report.rows])
    if not report.total:
        return chart, "There are no open queries."
    oldest = report.rows[-1].total
    old = "None has" if not oldest else f"{oldest:,} {'has' if oldest == 1 else 'have'}"
    return chart, f"{_plural(report.total, 'query', 'queries')} open. {old} been open for over 7 days."


def late_by_type_chart(report) -> tuple[BarChart, str]:
    """Late submissions per type, and the sentence that describes them."""
    chart = bar_chart(
        "late-by-type", "Notifications submitted late, by type", [(r.title, r.late) for r in report.by_type]
    )
    overall = report.overall
    if not overall.submitted:
        return chart, "No notifications were submitted in these weeks."
    if not overall.late:
        return (
            chart,
            f"None of the {_plural(overall.with_due_date, 'notification')} with a due date was submitted late.",
        )
    worst = report.by_type[0]
    return chart, (
        f"{overall.late:,} of the {_plural(overall.with_due_date, 'notification')} with a due date "
        f"{'was' if overall.late == 1 else 'were'} submitted late. "
        f"The type with the most was {worst.title}, with {worst.late:,}."
    )
