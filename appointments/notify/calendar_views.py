"""Calendar views: an appointment's .ics file, a feed at its secret address, and the staff page for feeds."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from departments.models import Department, StaffMember
from scheduler.errors import InvalidInput, NotFound

from ..staff.views import StaffRequest, refuse, request_staff, staff_page
from .calendars import (
    appointment_for_calendar_token,
    appointment_ics,
    appointment_ics_filename,
    calendar_feed_for_token,
    calendar_feed_ics,
    calendar_feed_issue,
    calendar_feed_live,
    calendar_feed_revoke,
    calendar_feed_url,
)

Role = StaffMember.Role


def _not_found() -> HttpResponse:
    return HttpResponseNotFound(
        _("This calendar address is not valid or no longer works."), content_type="text/plain; charset=utf-8"
    )


def _calendar_response(body: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # The address is the secret: keep it out of search engines and out of the Referer of any link in the event.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def appointment_ics_download(request: HttpRequest, token: str) -> HttpResponse:
    appointment = appointment_for_calendar_token(token)
    if appointment is None:
        return _not_found()
    response = _calendar_response(appointment_ics(appointment), filename=appointment_ics_filename(appointment))
    add_never_cache_headers(response)  # a change of time must reach the next download
    return response


@require_safe
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feed_for_token(token)
    if feed is None:
        return _not_found()
    response = _calendar_response(calendar_feed_ics(feed=feed), filename="consultations.ics")
    patch_cache_control(response, private=True, max_age=300)
    return response


# The staff page ------------------------------------------------------------------------------------------------


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[-1]


def _managed_department(request: StaffRequest, code: str | None, *, posting: bool) -> Department | None:
    """The department whose feed the page is about: a department admin's own, or the one an officer picked."""
    staff = request_staff(request)
    if code and (posting or staff.role == Role.PETITION_OFFICER):
        # Whoever posts for a department gets the service's answer on whether they may (never another department).
        department = Department.objects.filter(code=code[:40], is_active=True).first()
        if department is None:
            raise NotFound(_("There is no department %(code)s.") % {"code": code[:40]}, field="department")
        return department
    if staff.role == Role.DEPARTMENT_ADMIN:
        return staff.department
    return None


def _page(request: StaffRequest, *, department: Department | None, issued: dict | None = None) -> HttpResponse:
    staff = request_staff(request)
    context = {
        "staff": staff,
        "my_feed": calendar_feed_live(staff=staff),
        "department": department,
        "department_feed": calendar_feed_live(department=department) if department is not None else None,
        "departments": (
            Department.objects.filter(is_active=True).order_by("kind", "code")
            if staff.role == Role.PETITION_OFFICER
            else []
        ),
        "issued": issued,
    }
    response = render(request, "staff/calendar.html", context)
    if issued:
        add_never_cache_headers(response)  # the address is shown once: no copy in any cache
    return response


@staff_page()
@require_http_methods(["GET", "HEAD", "POST"])
def feeds_page(request: StaffRequest) -> HttpResponse:
    code = (request.POST.get("department") if request.method == "POST" else request.GET.get("department")) or None
    department = _managed_department(request, code, posting=request.method == "POST")
    if request.method != "POST":
        return _page(request, department=department)

    action, scope = request.POST.get("action"), request.POST.get("scope")
    if action not in ("issue", "revoke") or scope not in ("mine", "department"):
        raise InvalidInput(_("Choose to make a new address or to stop the current one."), field="action")
    owner: dict = {"staff": request_staff(request)} if scope == "mine" else {"department": department}
    if scope == "department" and department is None:
        return refuse(request, _("Only the department's admin or a petition officer may manage its calendar feed."))
    if action == "issue":
        _feed, token = calendar_feed_issue(actor=request.actor, **owner)
        url = calendar_feed_url(token)
        return _page(request, department=department, issued={"scope": scope, "url": url, "webcal": _webcal(url)})
    if calendar_feed_revoke(actor=request.actor, **owner):
        messages.success(request, _("The calendar address is stopped. Calendars subscribed to it no longer update."))
    else:
        messages.info(request, _("There was no working calendar address to stop."))
    target = reverse("calendars:staff-feeds")
    if department is not None and request_staff(request).role == Role.PETITION_OFFICER:
        target += "?" + urlencode({"department": department.code})
    return redirect(target)
