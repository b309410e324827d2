"""The weekly data report (数据周通报): which week a caller may read, and a WeekReport as rows, PNG charts, a PDF
and a CSV — every form showing the same numbers."""

import base64
import csv
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import Forbidden, InvalidInput
from scheduler.publishing import ISO_WEEK, service_today

from ..models import Petition
from .figures import Figures, WeekReport, week_report

# The district has no data from before the service existed; a year this early is a typing mistake.
FIRST_REPORT_YEAR = 2000
CJK_FONT_FAMILY = "Noto Sans CJK SC"
CJK_FONT_FILE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

Value = int | float | None

# WeasyPrint logs every layout step at INFO; a report a minute would drown the service's own log lines.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any  # a lazy translation
    rate: bool = False


OPEN_STATUSES = tuple(
    status for status in Petition.Status.values if status not in (Petition.Status.CLOSED, Petition.Status.NOT_ACCEPTED)
)
METRICS = (
    Metric("filed", pgettext_lazy("weekly report", "Filed")),
    Metric("handled", pgettext_lazy("weekly report", "Handled")),
    Metric("resolved", pgettext_lazy("weekly report", "Resolved")),
    Metric("resolution_rate", pgettext_lazy("weekly report", "Resolution rate"), rate=True),
    Metric("answered", pgettext_lazy("weekly report", "Answered")),
    Metric("answered_on_time", pgettext_lazy("weekly report", "Answered on time")),
    Metric("on_time_rate", pgettext_lazy("weekly report", "On-time rate"), rate=True),
    Metric("rated", pgettext_lazy("weekly report", "Rated")),
    Metric("satisfied", pgettext_lazy("weekly report", "Satisfied")),
    Metric("satisfaction_rate", pgettext_lazy("weekly report", "Satisfaction rate"), rate=True),
    Metric("open", pgettext_lazy("weekly report", "Open")),
    Metric("overdue", pgettext_lazy("weekly report", "Overdue")),
    Metric("due_within_3_days", pgettext_lazy("weekly report", "Due within 3 days")),
    Metric("sessions_held", pgettext_lazy("weekly report", "Sessions held")),
    Metric("no_shows", pgettext_lazy("weekly report", "No-shows")),
    Metric("failed_connections", pgettext_lazy("weekly report", "Failed connections")),
    Metric("open_slips", pgettext_lazy("weekly report", "Open follow-up slips")),
    Metric("turned_away", pgettext_lazy("weekly report", "Turned away")),
)
# The columns the page and the PDF show; the CSV and the API carry every metric.
TABLE_METRICS = tuple(
    m
    for m in METRICS
    if m.key
    in {
        "filed",
        "handled",
        "resolved",
        "resolution_rate",
        "on_time_rate",
        "satisfaction_rate",
        "open",
        "overdue",
        "sessions_held",
        "no_shows",
        "failed_connections",
        "turned_away",
    }
)
SCOPES = {
    "district": gettext_lazy("Whole district"),
    "department": gettext_lazy("By department"),
    "street": gettext_lazy("By street"),
    "community": gettext_lazy("By community"),
    "category": gettext_lazy("By category"),
}


# The week ---------------------------------------------------------------------------------------------------------


def report_week_parse(value: str, *, today: dt.date | None = None) -> tuple[int, int]:
    """Parse 'YYYY-Www' into (year, week) of a week that exists, from 2000 on, and has already started."""
    match = ISO_WEEK.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise InvalidInput(
            _("Write the week as YYYY-Www with ordinary digits (0–9), for example 2026-W49."), field="week"
        )
    year, week = int(match.group(1)), int(match.group(2))
    label = f"{year:04d}-W{week:02d}"
    if year < FIRST_REPORT_YEAR:
        raise InvalidInput(
            _("Reports cover weeks from %(year)s on.") % {"year": FIRST_REPORT_YEAR},
            field="week",
        )
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidInput(_("Week %(week)s does not exist.") % {"week": label}, field="week") from None
    if monday > (today or service_today()):
        raise InvalidInput(
            _("Week %(week)s has not started yet, so there is nothing to report.") % {"week": label}, field="week"
        )
    return year, week


def week_label(iso_year: int, iso_week: int) -> str:
    return f"{iso_year:04d}-W{iso_week:02d}"


def last_week(today: dt.date | None = None) -> tuple[int, int]:
    """The ISO week before today's: the week a report is usually about."""
    calendar = ((today or service_today()) - dt.timedelta(days=7)).isocalendar()
    return calendar.year, calendar.week


def report_for_actor(*, actor: Actor, iso_year: int, iso_week: int, today: dt.date | None = None) -> WeekReport:
    """The week's report as the caller may read it: everything for the petition office, their own department's
    rows for a department's staff; anyone else is refused."""
    if actor.is_petition_officer:
        return week_report(iso_year=iso_year, iso_week=iso_week, today=today)
    staff = actor.staff
    if staff is not None and staff.department_id is not None and actor.is_department_member(staff.department_id):
        report = week_report(iso_year=iso_year, iso_week=iso_week, department_ids=[staff.department_id], today=today)
        return department_only(report, staff.department_id)
    raise Forbidden(_("The weekly report is for the petition office and the departments."))


def department_only(report: WeekReport, department_id: int) -> WeekReport:
    """Keep a department's own rows: its line among the departments, and the breakdowns of its own petitions."""
    return replace(report, by_department=[row for row in report.by_department if row[0].pk == department_id])


def can_read_reports(staff: StaffMember | None) -> bool:
    return staff is not None and staff.role in (
        StaffMember.Role.PETITION_OFFICER,
        StaffMember.Role.DEPARTMENT_STAFF,
        StaffMember.Role.DEPARTMENT_ADMIN,
    )


# The numbers ------------------------------------------------------------------------------------------------------


def metric_value(figures: Figures, key: str) -> Value:
    if key == "open":
        return sum(figures.open_by_status.values())
    if key.startswith("open_") and key.removeprefix("open_") in OPEN_STATUSES:
        return figures.open_by_status.get(key.removeprefix("open_"), 0)
    return getattr(figures, key)


def metric_change(this_week: Figures, previous_week: Figures, key: str) -> Value:
    """This week less the week before: a count's difference, or a rate's in fractions (0.05 = 5 points)."""
    now, before = metric_value(this_week, key), metric_value(previous_week, key)
    if now is None or before is None:
        return None
    if isinstance(now, float) or isinstance(before, float):
        return round(now - before, 4)
    return now - before


def all_metric_keys() -> list[str]:
    return [m.key for m in METRICS] + [f"open_{status}" for status in OPEN_STATUSES]


@dataclass(frozen=True)
class ReportRow:
    """One line of the report: the district, a department, a street, a community or a category."""

    scope: str
    code: str
    name: str
    this_week: Figures
    previous_week: Figures

    def value(self, key: str) -> Value:
        return metric_value(self.this_week, key)

    def previous(self, key: str) -> Value:
        return metric_value(self.previous_week, key)

    def change(self, key: str) -> Value:
        return metric_change(self.this_week, self.previous_week, key)


def _name(thing: Any) -> str:
    english = (translation.get_language() or "").startswith("en")
    return (getattr(thing, "name_en", "") if english else "") or thing.name


def report_rows(report: WeekReport) -> list[ReportRow]:
    """Every line of the report in order: the district first, then departments, streets, communities, categories."""
    rows = [ReportRow("district", "", str(SCOPES["district"]), report.total, report.previous_total)]
    for scope, lines in (
        ("department", report.by_department),
        ("street", report.by_street),
        ("community", report.by_community),
        ("category", report.by_category),
    ):
        rows += [ReportRow(scope, thing.code, _name(thing), now, before) for thing, now, before in lines]
    return rows


def percent(rate: Value) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def shown(value: Value, *, rate: bool = False) -> str:
    """A figure as the page and the PDF print it."""
    if rate:
        return percent(value)
    return "—" if value is None else str(value)


def shown_change(value: Value, *, rate: bool = False) -> str:
    if value is None:
        return ""
    if rate:
        return f"{value * 100:+.1f}" if value else "±0"
    return f"{value:+d}" if value else "±0"


def csv_value(value: Value) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def headline(report: WeekReport) -> str:
    """The sentence the district states its week with."""
    total = report.total
    return _(
        "This week %(handled)s petitions were handled and %(resolved)s resolved (%(rate)s); "
        "%(filed)s new petitions were filed and %(held)s consultations held."
    ) % {
        "handled": total.handled,
        "resolved": total.resolved,
        "rate": percent(total.resolution_rate),
        "filed": total.filed,
        "held": total.sessions_held,
    }


# The CSV ----------------------------------------------------------------------------------------------------------


def csv_columns() -> list[str]:
    columns = ["scope", "code", "name"]
    for key in all_metric_keys():
        columns += [key, f"{key}_previous", f"{key}_change"]
    return columns


def report_csv(report: WeekReport) -> str:
    """One line per district/department/street/community/category: each figure this week, last week, the change.
    Rates are fractions with four decimals (0.9583), blank when nothing was counted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_columns())
    for row in report_rows(report):
        line = [row.scope, row.code, row.name]
        for key in all_metric_keys():
            line += [csv_value(row.value(key)), csv_value(row.previous(key)), csv_value(row.change(key))]
        writer.writerow(line)
    return out.getvalue()


# The charts -------------------------------------------------------------------------------------------------------


@cache
def chart_font_family() -> list[str]:
    """Make the Noto CJK font known to matplotlib so that Chinese labels render, whatever its font cache holds."""
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    if CJK_FONT_FAMILY not in names:
        try:
            font_manager.fontManager.addfont(CJK_FONT_FILE)
        except OSError:
            pass
        names = {entry.name for entry in font_manager.fontManager.ttflist}
    cjk = [name for name in (CJK_FONT_FAMILY, "Noto Sans CJK JP") if name in names]
    return [*cjk[:1], "DejaVu Sans"]


COLOURS = {"this": "#1f5f8b", "last": "#9bb7cc", "bad": "#b3412d", "warn": "#d08a1c", "good": "#2f7d4f"}


def label(key: str) -> str:
    return next(str(m.label) for m in METRICS if m.key == key)


def _figure(height_rows: int) -> Figure:
    figure = Figure(figsize=(7.2, min(3.7, max(2.4, 0.9 + 0.3 * height_rows))), dpi=130, layout="constrained")
    return figure


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _bars(
    figure: Figure,
    labels: list[str],
    series: list[tuple[str, list[float], str]],
    *,
    title: str,
    annotate: Callable[[int, float], str] | None = None,
    xlabel: str = "",
) -> None:
    axes = figure.add_subplot()
    count = len(series)
    height = 0.8 / max(count, 1)
    positions = list(range(len(labels)))
    for index, (name, values, colour) in enumerate(series):
        offsets = [p - 0.4 + height * (index + 0.5) for p in positions]
        bars = axes.barh(offsets, values, height=height * 0.92, label=name, color=colour)
        texts = [annotate(i, v) if annotate else f"{v:g}" for i, v in enumerate(values)]
        axes.bar_label(bars, labels=texts, padding=2, fontsize=8)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=11, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(x=0.15)
    axes.set_xlim(left=0, right=max([1.0, *(v for _n, values, _c in series for v in values)]) * 1.15)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if xlabel:
        axes.set_xlabel(xlabel, fontsize=9)
    if count > 1:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if not labels:
        axes.text(0.5, 0.5, _("No data this week"), ha="center", va="center", transform=axes.transAxes)


def _department_lines(report: WeekReport) -> list[tuple[str, Figures, Figures]]:
    return [(_name(department), now, before) for department, now, before in report.by_department]


# A chart by department shows at most this many bars' groups: the busiest, in the report's order. A city's hundreds
# of departments would be unreadable in one chart (and took seconds to draw); the tables list every department.
CHART_DEPARTMENTS_MAX = 20


def _busiest(
    lines: list[tuple[str, Figures, Figures]], weight: Callable[[Figures], float], title: str
) -> tuple[list[tuple[str, Figures, Figures]], str]:
    """The departments a chart shows, and its title saying so when some are left out."""
    if len(lines) <= CHART_DEPARTMENTS_MAX:
        return lines, title
    chosen = sorted(range(len(lines)), key=lambda i: (-weight(lines[i][1]), i))[:CHART_DEPARTMENTS_MAX]
    shown = [lines[i] for i in sorted(chosen)]
    return shown, _("%(title)s: the %(shown)s busiest of %(all)s departments") % {
        "title": title,
        "shown": len(shown),
        "all": len(lines),
    }


def report_charts(report: WeekReport) -> dict[str, bytes]:
    """The report's four charts as PNG: resolution and sessions by department, filed and handled against the week
    before, satisfaction by department."""
    charts: dict[str, bytes] = {}
    every_department = _department_lines(report)
    with rc_context({"font.family": chart_font_family(), "font.size": 9, "axes.unicode_minus": False}):
        departments, title = _busiest(every_department, lambda f: f.handled, str(_("Resolution by department")))
        names = [name for name, _now, _before in departments]
        figure = _figure(len(names) * 2)
        handled = [float(now.handled) for _n, now, _b in departments]
        resolved = [float(now.resolved) for _n, now, _b in departments]
        rates = [now.resolution_rate for _n, now, _b in departments]
        _bars(
            figure,
            names,
            [(label("handled"), handled, COLOURS["last"]), (label("resolved"), resolved, COLOURS["this"])],
            title=title,
            annotate=lambda i, v: f"{v:g}",
        )
        axes = figure.axes[0]
        for index, rate in enumerate(rates):
            if rate is not None:
                axes.annotate(
                    percent(rate),
                    xy=(1.0, index),
                    xycoords=("axes fraction", "data"),
                    ha="right",
                    va="center",
                    fontsize=8,
                    color=COLOURS["good"],
                )
        charts["resolution"] = _png(figure)

        departments, title = _busiest(
            every_department,
            lambda f: f.sessions_held + f.no_shows + f.failed_connections,
            str(_("Consultations by department")),
        )
        names = [name for name, _now, _before in departments]
        figure = _figure(len(names) * 2)
        _bars(
            figure,
            names,
            [
                (label("sessions_held"), [float(now.sessions_held) for _n, now, _b in departments], COLOURS["this"]),
                (label("no_shows"), [float(now.no_shows) for _n, now, _b in departments], COLOURS["warn"]),
                (
                    label("failed_connections"),
                    [float(now.failed_connections) for _n, now, _b in departments],
                    COLOURS["bad"],
                ),
            ],
            title=title,
        )
        charts["sessions"] = _png(figure)

        figure = _figure(3)
        _bars(
            figure,
            [label("filed"), label("handled")],
            [
                (
                    str(_("Week before")),
                    [float(report.previous_total.filed), float(report.previous_total.handled)],
                    COLOURS["last"],
                ),
                (str(_("This week")), [float(report.total.filed), float(report.total.handled)], COLOURS["this"]),
            ],
            title=str(_("Filed and handled, this week and the week before")),
        )
        charts["filed_handled"] = _png(figure)

        departments, title = _busiest(
            every_department,
            lambda f: f.rated,
            str(_("Satisfaction by department (satisfied or basically satisfied)")),
        )
        names = [name for name, _now, _before in departments]
        figure = _figure(len(names))
        satisfaction = [(now.satisfaction_rate or 0.0) * 100 for _n, now, _b in departments]
        _bars(
            figure,
            names,
            [(label("satisfaction_rate"), satisfaction, COLOURS["good"])],
            title=title,
            annotate=lambda i, v: (
                _("%(rate)s of %(rated)s rated") % {"rate": percent(v / 100), "rated": departments[i][1].rated}
                if departments[i][1].rated
                else _("none rated")
            ),
            xlabel="%",
        )
        figure.axes[0].set_xlim(0, 115)
        charts["satisfaction"] = _png(figure)
    return charts


def chart_titles() -> dict[str, str]:
    return {
        "resolution": str(_("Resolution by department")),
        "sessions": str(_("Consultations by department")),
        "filed_handled": str(_("Filed and handled, this week and the week before")),
        "satisfaction": str(_("Satisfaction by department")),
    }


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# The PDF ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCell:
    value: str
    change: str
    rate: bool


def table_sections(report: WeekReport) -> Iterator[dict]:
    """The report's tables, one per scope that has lines, each line's cells ready to print."""
    rows = report_rows(report)
    for scope, title in SCOPES.items():
        lines = [row for row in rows if row.scope == scope]
        if not lines:
            continue
        yield {
            "scope": scope,
            "title": str(title),
            "rows": [
                {
                    "row": row,
                    "cells": [
                        TableCell(
                            shown(row.value(m.key), rate=m.rate), shown_change(row.change(m.key), rate=m.rate), m.rate
                        )
                        for m in TABLE_METRICS
                    ],
                }
                for row in lines
            ],
        }


def report_context(report: WeekReport, charts: dict[str, bytes]) -> dict:
    """What the page and the PDF template show: the headline, the charts as data URIs and the tables."""
    titles = chart_titles()
    return {
        "report": report,
        "week": week_label(report.iso_year, report.iso_week),
        "headline": headline(report),
        "charts": [{"key": key, "title": titles[key], "src": data_uri(png)} for key, png in charts.items()],
        "metrics": TABLE_METRICS,
        "sections": list(table_sections(report)),
    }


def report_pdf(report: WeekReport, *, charts: dict[str, bytes] | None = None) -> bytes:
    """The report as an A4 landscape PDF with its charts and tables, its fonts embedded."""
    from weasyprint import HTML

    html = render_to_string("office/report_pdf.html", report_context(report, charts or report_charts(report)))
    return HTML(string=html).write_pdf()


def report_filename(report: WeekReport, extension: str) -> str:
    return f"weekly-report-{week_label(report.iso_year, report.iso_week)}.{extension}"
