"""Pages for signed-in staff: their sessions, the community office's day, the petition office, weekly hours."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.models import Community, Department, StaffMember
from departments.services import Actor, staff_for_user
from scheduler import hours
from scheduler.errors import DomainError, InvalidInput, NotFound
from scheduler.log_filters import redact
from scheduler.models import Closure, ConsultationRule
from scheduler.publishing import iso_week_parse
from scheduler.text import ascii_formfield, form_text_clean

from .. import policy
from ..booking import appointment_check_in
from ..video import selectors
from ..video.base import VideoProviderError, video_provider
from ..video.services import Side, actor_side, join_window, video_flag_clear, video_join_check, video_session_end

Role = StaffMember.Role
HOME_BY_ROLE: dict[str, str] = {
    Role.DEPARTMENT_STAFF: "staff:sessions",
    Role.DEPARTMENT_ADMIN: "staff:sessions",
    Role.COMMUNITY_WORKER: "staff:community",
    Role.PETITION_OFFICER: "staff:office",
}


def refuse(request: HttpRequest, message: str, *, status: int = 403) -> HttpResponse:
    return render(request, "staff/refused.html", {"message": message}, status=status)


class StaffRequest(HttpRequest):
    """A request let in by staff_page: it carries the signed-in staff member's Actor."""

    actor: Actor


def request_staff(request: StaffRequest) -> StaffMember:
    """The staff member behind a request that staff_page let in."""
    staff = request.actor.staff
    if staff is None:
        raise RuntimeError("staff_page sets request.actor to an Actor with a staff member.")
    return staff


def request_department(request: StaffRequest) -> Department:
    """The department of a department member let in by staff_page (a constraint gives them one)."""
    department = request_staff(request).department
    if department is None:
        raise RuntimeError("A department member must belong to a department.")
    return department


def request_community(request: StaffRequest) -> Community:
    """The community of a community worker let in by staff_page (a constraint gives them one)."""
    community = request_staff(request).community
    if community is None:
        raise RuntimeError("A community worker must belong to a community.")
    return community


def staff_page(*roles: str | Callable[[Actor], bool]):
    """Let only signed-in staff in, with their Actor on request.actor: those the given policy rule admits
    (appointments/policy.py), or of the given roles."""
    rules = [r for r in roles if callable(r)]
    role_names = [r for r in roles if not callable(r)]

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                # The way back after signing in goes in the Location header and the login page's address, which
                # logs and proxies keep: an ID number or mobile in a search address is masked there.
                return redirect_to_login(redact(request.get_full_path()))
            staff = staff_for_user(request.user)
            if staff is None:
                return refuse(request, _("This page is for district staff. Your account has no staff role."))
            actor = Actor(staff=staff)
            if (role_names and staff.role not in role_names) or not all(rule(actor) for rule in rules):
                return refuse(request, _("Your role cannot open this page."))
            staff_request = cast(StaffRequest, request)
            staff_request.actor = actor
            try:
                return view(staff_request, *args, **kwargs)
            except DomainError as error:
                return refuse(request, str(error.message), status=error.status_code)

        return wrapper

    return decorator


@staff_page()
@require_GET
def home(request: StaffRequest) -> HttpResponse:
    return redirect(HOME_BY_ROLE[request_staff(request).role])


@staff_page(policy.may_open_sessions)
@require_GET
def my_sessions(request: StaffRequest) -> HttpResponse:
    department = request_department(request)
    sessions = selectors.department_sessions(department=department)
    return render(request, "staff/sessions.html", {"department": department, **sessions, "now": timezone.now()})


@staff_page(policy.may_open_community_day)
@require_GET
def community_today(request: StaffRequest) -> HttpResponse:
    community = request_community(request)
    rows = selectors.community_today(community=community)
    return render(request, "staff/community.html", {"community": community, "rows": rows, "now": timezone.now()})


@staff_page(policy.may_open_community_day)
@require_POST
def check_in(request: StaffRequest, appointment_id: int) -> HttpResponse:
    try:
        appointment = appointment_check_in(actor=request.actor, appointment_id=appointment_id)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(name)s is checked in.") % {"name": appointment.petition.resident.name})
    return redirect("staff:community")


@staff_page(policy.may_open_office)
@require_GET
def office(request: StaffRequest) -> HttpResponse:
    return render(request, "staff/office.html", {**selectors.office_sessions(), "now": timezone.now()})


@staff_page(policy.can_clear_video_flag)
@require_POST
def flag_clear(request: StaffRequest, session_id: int) -> HttpResponse:
    video_flag_clear(actor=request.actor, session_id=session_id)
    messages.success(request, _("The flag is cleared."))
    return redirect("staff:office")


# Joining a session --------------------------------------------------------------------------------------------


@staff_page()
@require_GET
def join(request: StaffRequest, appointment_id: int) -> HttpResponse:
    actor = request.actor
    appointment = video_join_check(actor=actor, appointment_id=appointment_id)
    opens, closes = join_window(appointment)
    side = actor_side(actor, appointment)
    try:
        provider_name = video_provider().name
    except VideoProviderError:
        return refuse(
            request, _("The video service is not set up correctly; tell the system administrator."), status=503
        )
    context = {
        "appointment": appointment,
        "side": side,
        "is_local": provider_name == "local",
        "can_end": side in (Side.DEPARTMENT, Side.PETITION_OFFICE),
        "names": selectors.expected_names(appointment=appointment),
        "expected": selectors.expected_participants(appointment=appointment),
        "closes_at": closes,
        "opens_at": opens,
        "back_url": reverse(HOME_BY_ROLE[request_staff(request).role]),
        "join_text": _join_text(),
    }
    return render(request, "staff/join.html", context)


def _join_text() -> dict[str, str]:
    """What the join page's script says, translated here so the script holds no language."""
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected."),
        "left": _("You have left the session."),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "cameraOff": _("Camera off"),
        "cameraOn": _("Camera on"),
        "you": _("You"),
        "participant": _("Participant"),
        "failed": _("Could not connect:"),
        "cameraFailed": _("The camera could not be started:"),
        "preview": _("Local preview: only you can see this."),
        "ended": _("The slot has ended."),
    }


@staff_page(policy.may_end_sessions)
@require_POST
def end(request: StaffRequest, appointment_id: int) -> HttpResponse:
    try:
        video_session_end(actor=request.actor, appointment_id=appointment_id)
    except VideoProviderError:
        messages.error(request, _("The video service cannot be reached right now. Please try again in a minute."))
    else:
        messages.success(request, _("The session has ended for everyone."))
    return redirect(HOME_BY_ROLE[request_staff(request).role])


# Weekly hours -------------------------------------------------------------------------------------------------


class RuleForm(forms.ModelForm):
    class Meta:
        model = ConsultationRule
        fields = [
            "weekday",
            "start_time",
            "end_time",
            "session_minutes",
            "buffer_minutes",
            "capacity",
            "effective_from",
            "effective_until",
            "min_notice_minutes",
            "booking_window_days",
        ]
        # Numbers, dates and times in ASCII digits, numbers within the bounds the database enforces.
        formfield_callback = ascii_formfield
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "effective_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "effective_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every rule has a weekday: offer the seven days and no empty choice.
        self.fields["weekday"].choices = ConsultationRule.Weekday.choices

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            raise forms.ValidationError(gettext_lazy("The hours must end after they start."))
        return data


CLOSURE_REASON_MAX = Closure._meta.get_field("reason").max_length or 200


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["start_date", "end_date", "reason"]
        formfield_callback = ascii_formfield
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean_reason(self) -> str:
        return form_text_clean(self.cleaned_data["reason"], max_length=CLOSURE_REASON_MAX, min_length=1)

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            raise forms.ValidationError(gettext_lazy("The last day cannot be before the first day."))
        return data


class PublishForm(forms.Form):
    # The week itself is read by iso_week_parse, which says exactly what is wrong with it.
    confirm_provisional_holidays = forms.BooleanField(required=False)


def _posted_id(value: str | None) -> int | None:
    """A record id as a form posts it: ASCII digits of a size the database can hold, else None."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _one_posted[M: Model](queryset: QuerySet[M], value: str | None) -> M | None:
    """The record of the queryset with the id a form sent, or None for an id missing, malformed or not in it."""
    record_id = _posted_id(value)
    return queryset.filter(pk=record_id).first() if record_id is not None else None


@staff_page(policy.may_keep_hours)
@require_GET
def hours_index(request: StaffRequest) -> HttpResponse:
    departments = hours.departments_for_hours(actor=request.actor)
    if len(departments) == 1:
        return redirect("staff:hours-department", code=departments[0].code)
    return render(request, "staff/hours_index.html", {"departments": departments})


@staff_page(policy.may_keep_hours)
@require_http_methods(["GET", "POST"])
def hours_department(request: StaffRequest, code: str) -> HttpResponse:
    actor = request.actor
    department = hours.department_for_hours(actor=actor, code=code)
    rules = ConsultationRule.objects.filter(department=department)
    editing = None
    if "rule" in request.GET:
        editing = _one_posted(rules, request.GET["rule"])
        if editing is None:
            raise NotFound(_("There is no such rule of this department."), field="rule")
    rule_form = RuleForm(instance=editing, prefix="rule")
    closure_form = ClosureForm(prefix="closure")
    publish_error: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rule-save":
            editing = None
            if "rule_id" in request.POST:
                editing = _one_posted(rules, request.POST["rule_id"])
                if editing is None:
                    raise NotFound(_("There is no such rule of this department."), field="rule_id")
            rule_form = RuleForm(request.POST, instance=editing, prefix="rule")
            if rule_form.is_valid():
                rule = rule_form.save(commit=False)
                rule.department = department
                hours.rule_save(actor=actor, rule=rule)
                messages.success(request, _("The rule is saved. Publish the coming weeks to apply it."))
                return redirect(request.path)
        elif action == "rule-delete":
            rule = _one_posted(rules, request.POST.get("rule_id"))
            if rule is None:
                raise NotFound(_("There is no such rule of this department."), field="rule_id")
            hours.rule_delete(actor=actor, rule=rule)
            messages.success(request, _("The rule is deleted. Publish the coming weeks to apply it."))
            return redirect(request.path)
        elif action == "closure-save":
            closure_form = ClosureForm(request.POST, prefix="closure")
            if closure_form.is_valid():
                closure = closure_form.save(commit=False)
                closure.department = department
                hours.closure_save(actor=actor, closure=closure)
                messages.success(request, _("The closure is saved. Publish the weeks it covers to apply it."))
                return redirect(request.path)
        elif action == "closure-delete":
            closure = _one_posted(Closure.objects.filter(department=department), request.POST.get("closure_id"))
            if closure is None:
                raise NotFound(_("There is no such closure of this department."), field="closure_id")
            hours.closure_delete(actor=actor, closure=closure)
            messages.success(request, _("The closure is removed."))
            return redirect(request.path)
        elif action == "publish":
            form = PublishForm(request.POST)
            form.is_valid()  # a lone optional checkbox: always valid
            week = request.POST.get("week", "")
            try:
                year, week_number = iso_week_parse(week)
                result = hours.week_publish_by_staff(
                    actor=actor,
                    department=department,
                    iso_year=year,
                    iso_week=week_number,
                    confirm_provisional_holidays=form.cleaned_data["confirm_provisional_holidays"],
                )
            except DomainError as error:
                publish_error = {"week": week, "message": str(error.message)}
            else:
                messages.success(
                    request,
                    _("Week %(week)s is published: %(created)s new, %(updated)s changed, %(removed)s removed.")
                    % {
                        "week": result.week.label,
                        "created": result.created,
                        "updated": result.updated,
                        "removed": result.removed,
                    },
                )
                if result.kept_booked:
                    messages.warning(
                        request,
                        _("%(count)s booked times no longer match the rules; they were kept.")
                        % {"count": len(result.kept_booked)},
                    )
                return redirect(request.path)
            status = 422
        else:
            raise InvalidInput(_("This form asked for something the page does not do; reload it and try again."))
    previews = hours.hours_preview(department=department)
    if publish_error is not None:
        # Shown beside its week when the week is on the page, above the weeks otherwise.
        publish_error["beside_week"] = any(p.label == publish_error["week"] for p in previews)
    context = {
        "department": department,
        "departments": hours.departments_for_hours(actor=actor),
        "rules": rules,
        "closures": Closure.objects.filter(department=department).order_by("-start_date")[:20],
        "shared_closures": Closure.objects.filter(department__isnull=True, end_date__gte=timezone.localdate()),
        "rule_form": rule_form,
        "editing": editing,
        "closure_form": closure_form,
        "previews": previews,
        "publish_error": publish_error,
    }
    return render(request, "staff/hours.html", context, status=status)
