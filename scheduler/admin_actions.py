"""Admin actions that stay thin: find the staff member acting, ask a reason when the service needs one, call the
service once per record, and show each refusal as a message in the admin's language."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from departments.services import Actor, staff_for_user

from .errors import DomainError

REASON_MAX = 500


def admin_actor(modeladmin: admin.ModelAdmin, request: HttpRequest) -> Actor | None:
    """The staff member behind this admin account; the admin may do only what that person may do elsewhere."""
    staff = staff_for_user(request.user)
    if staff is None:
        modeladmin.message_user(
            request,
            _(
                "Your admin account is not linked to a staff member, so it cannot act on these records. "
                "Link it to a staff member (e.g. a petition officer) first."
            ),
            messages.ERROR,
        )
        return None
    return Actor(staff=staff)


def each_through_service(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    call: Callable[[Any], Any],
    *,
    done_message: str,
) -> None:
    """Call the service for each selected record; refusals become error messages and change nothing."""
    done = 0
    for obj in queryset:
        try:
            call(obj)
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


def with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    title: str,
    explanation: str,
    call: Callable[[Any, str, Actor], Any],
    done_message: str,
) -> HttpResponse | None:
    """Ask a reason on a page of its own, then call the service for each record with it."""
    actor = admin_actor(modeladmin, request)
    if actor is None:
        return None
    reason = request.POST.get("reason", "")
    if request.POST.get("apply") and reason.strip():
        each_through_service(
            modeladmin, request, queryset, lambda obj: call(obj, reason[:REASON_MAX], actor), done_message=done_message
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "objects": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "reason": reason,
        "reason_missing": bool(request.POST.get("apply")),
        "reason_max": REASON_MAX,
    }
    return TemplateResponse(request, "admin/action_reason.html", context)
