"""The API of the petition office's figures: the weekly data report as JSON, the same numbers as its PDF and CSV."""

import datetime as dt
from enum import StrEnum
from typing import Annotated

from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from departments.auth import any_caller
from scheduler.schemas import WEEK_PATTERN, errors

from .figures import Figures
from .report import ReportRow, all_metric_keys, last_week, report_for_actor, report_rows, report_week_parse, week_label

router = Router(auth=any_caller())

Week = Annotated[str | None, WithJsonSchema({"type": "string", "pattern": WEEK_PATTERN})]


class ReportScope(StrEnum):
    DISTRICT = "district"
    DEPARTMENT = "department"
    STREET = "street"
    COMMUNITY = "community"
    CATEGORY = "category"


class FiguresOut(Schema):
    filed: int = Field(..., description="Petitions received in the week")
    handled: int = Field(..., description="Petitions answered (first answer told) or not accepted in the week")
    resolved: int = Field(..., description="Of those handled, answered with no open review and not rated dissatisfied")
    resolution_rate: float | None = Field(..., description="resolved ÷ handled (0–1); null when nothing was handled")
    answered: int
    answered_on_time: int = Field(..., description="Answers told on or before their statutory deadline")
    on_time_rate: float | None = Field(..., description="answered_on_time ÷ answered (0–1), null when none")
    rated: int
    satisfied: int = Field(..., description="Rated satisfied or basically satisfied")
    satisfaction_rate: float | None = Field(..., description="satisfied ÷ rated (0–1), null when none rated")
    open: int = Field(..., description="Open petitions (neither closed nor not accepted) at the week's end")
    open_by_status: dict[str, int] = Field(..., description="The open petitions by status")
    overdue: int = Field(..., description="Open petitions past their deadline at the week's end")
    due_within_3_days: int
    sessions_held: int = Field(..., description="Consultations whose time fell in the week and that were held")
    no_shows: int
    failed_connections: int
    open_slips: int = Field(..., description="Follow-up slips still open")
    turned_away: int = Field(..., description="Residents who found no free consultation time")


class ReportRowOut(Schema):
    scope: ReportScope
    code: str = Field(
        ..., description="The department's, street's, community's or category's code; empty for the district"
    )
    name: str
    this_week: FiguresOut
    previous_week: FiguresOut
    change: dict[str, int | float | None] = Field(
        ..., description="This week less the week before, per figure; rates in fractions (0.05 = 5 points)"
    )


class WeeklyReportOut(Schema):
    week: str = Field(..., description="The ISO week, `YYYY-Www`", json_schema_extra={"pattern": WEEK_PATTERN})
    first_day: dt.date = Field(..., description="Its Monday (Asia/Shanghai local days)")
    last_day: dt.date = Field(..., description="Its Sunday")
    district: ReportRowOut = Field(..., description="The whole district, or the caller's department for its staff")
    departments: list[ReportRowOut]
    streets: list[ReportRowOut]
    communities: list[ReportRowOut]
    categories: list[ReportRowOut]


def figures_out(figures: Figures) -> dict:
    return {**figures.__dict__, "open": sum(figures.open_by_status.values())}


def row_out(row: ReportRow) -> dict:
    return {
        "scope": row.scope,
        "code": row.code,
        "name": row.name,
        "this_week": figures_out(row.this_week),
        "previous_week": figures_out(row.previous_week),
        "change": {key: row.change(key) for key in all_metric_keys()},
    }


@router.get(
    "/reports/weekly",
    response={200: WeeklyReportOut, **errors(401, 403, 422)},
    operation_id="report_weekly",
    tags=["reports"],
    summary="Read the weekly data report (数据周通报)",
    description=(
        "The figures of one ISO week (`?week=YYYY-Www`, last week when left out) and of the week before: petitions "
        "filed and handled, resolved and the resolution rate (resolved ÷ handled, as the district reports it), "
        "answers on time, satisfaction, open petitions by status, overdue and due within 3 days, consultations "
        "held, no-shows and failed connections, open follow-up slips and residents turned away — for the district "
        "and by department, street, community and category, each with its change. The same numbers as the report's "
        "PDF and CSV; a past week reads the same every time. Petition officers read everything; a department's "
        "staff read their own department's petitions only; kiosks and community workers get 403. 422 for a week "
        "that is badly written, does not exist, lies before 2000 or has not started."
    ),
)
def report_weekly(request, week: Week = Query(None, description="The ISO week, `YYYY-Www`; last week if left out")):
    iso_year, iso_week = report_week_parse(week) if week is not None else last_week()
    report = report_for_actor(actor=request.auth, iso_year=iso_year, iso_week=iso_week)
    rows = report_rows(report)
    return {
        "week": week_label(report.iso_year, report.iso_week),
        "first_day": report.first_day,
        "last_day": report.last_day,
        "district": row_out(rows[0]),
        **{
            plural: [row_out(row) for row in rows if row.scope == scope]
            for plural, scope in (
                ("departments", "department"),
                ("streets", "street"),
                ("communities", "community"),
                ("categories", "category"),
            )
        },
    }
