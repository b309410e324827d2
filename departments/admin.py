"""The admin of organisations and people: every name and address typed here goes through the shared text cleaner."""

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The admin is an edge of the app like a view: it may use the scheduler's input cleaning without the models doing so.
from scheduler.text import TextCleaningModelForm

from .audit import AuditEvent
from .models import ApiToken, Community, Department, District, Kiosk, StaffMember, Street
from .services import kiosk_key_rotate, kiosk_revoke
from .signin import api_token_revoke, user_deactivate, user_on_record


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["code", "name"]


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["code", "name", "district"]
    list_filter = ["district"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["code", "name", "kind", "street"]
    list_filter = ["street", "kind"]
    search_fields = ["code", "name"]


@admin.register(Kiosk)
class KioskAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["name", "community", "key_prefix", "created_at", "last_seen_at", "revoked_at"]
    list_filter = ["community__street"]
    # Revoking is the service's (the Revoke key action); a revoked key is never brought back by editing a date.
    readonly_fields = ["key_prefix", "created_at", "last_seen_at", "revoked_at"]
    actions = ["rotate_key", "revoke"]

    def has_add_permission(self, request):
        # A kiosk's key is shown once; create kiosks with `manage.py kiosk_key create` or rotate here.
        return False

    @admin.action(description=_("Issue a new key (shown once)"))
    def rotate_key(self, request, queryset):
        for kiosk in queryset:
            key = kiosk_key_rotate(kiosk=kiosk)
            self.message_user(request, f"{kiosk}: {key}", messages.WARNING)

    @admin.action(description=_("Revoke key"))
    def revoke(self, request, queryset):
        for kiosk in queryset:
            kiosk_revoke(kiosk=kiosk)


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["user", "role", "department", "community"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__first_name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = TextCleaningModelForm
    list_display = ["name", "staff", "created_at", "last_used_at", "revoked_at"]
    # A revoked token (revoked by hand or by deactivating its owner) is never brought back by editing a date.
    readonly_fields = ["staff", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke token"))
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token, by=request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Accounts of people on record (staff members, anyone in the audit trail) are deactivated, never deleted."""

    actions = ["deactivate"]
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        # No bulk delete at all: deleting people on record is refused, and the others are rare enough one by one.
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not user_on_record(obj))

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, object_id)
        if user is not None and user_on_record(user):
            self.message_user(
                request,
                gettext(
                    "%(user)s is on record as a staff member or in the audit trail, so the account cannot be "
                    "deleted. Use the action 'Deactivate' instead: the person can no longer sign in, and who did "
                    "what stays on record."
                )
                % {"user": user.get_username()},
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description=_("Deactivate (cannot sign in; stays on record)"))
    def deactivate(self, request, queryset):
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, gettext("You cannot deactivate your own account."), messages.ERROR)
            queryset = queryset.exclude(pk=request.user.pk)
        done = [user.get_username() for user in queryset if user_deactivate(user=user, by=request.user)]
        if done:
            self.message_user(
                request, gettext("Deactivated: %(users)s.") % {"users": ", ".join(done)}, messages.SUCCESS
            )
