"""The weekly data report's page: any week's figures with their charts, and the same report as PDF and CSV."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from scheduler.errors import InvalidInput

from .. import policy
from ..office.report import (
    last_week,
    report_charts,
    report_context,
    report_csv,
    report_filename,
    report_for_actor,
    report_pdf,
    report_week_parse,
    week_label,
)
from .views import StaffRequest, staff_page

DRILL_DOWN = {"department": "department", "community": "community", "category": "category"}


@staff_page(policy.may_see_figures)
@require_GET
def weekly_report(request: StaffRequest) -> HttpResponse:
    typed = request.GET.get("week", "")
    try:
        iso_year, iso_week = report_week_parse(typed) if typed else last_week()
    except InvalidInput as error:
        context = {"week": typed[:20], "error": error.message, "default_week": week_label(*last_week())}
        return render(request, "staff/report.html", context, status=422)
    report = report_for_actor(actor=request.actor, iso_year=iso_year, iso_week=iso_week)
    wanted = request.GET.get("format", "")
    if wanted == "csv":
        # A byte-order mark so that spreadsheet programs read the Chinese names as UTF-8.
        response = HttpResponse("\ufeff" + report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(report, "csv")}"'
        return response
    charts = report_charts(report)
    if wanted == "pdf":
        response = HttpResponse(report_pdf(report, charts=charts), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(report, "pdf")}"'
        return response
    context = report_context(report, charts)
    extra = {"drill_down": DRILL_DOWN, "is_officer": request.actor.is_petition_officer, "default_week": context["week"]}
    return render(request, "staff/report.html", {**context, **extra})
