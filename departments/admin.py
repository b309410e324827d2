"""The admin of organisations and people: every name and address typed here goes through the shared text cleaner."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

# The admin is an edge of the app like a view: it may use the scheduler's input cleaning without the models doing so.
from scheduler.text import TextCleaningModelForm

from .audit import AuditEvent
from .models import ApiToken, Community, Department, District, Kiosk, StaffMember, Street
from .services import kiosk_key_rotate, kiosk_revoke


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
    readonly_fields = ["key_prefix", "created_at", "last_seen_at"]
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
    readonly_fields = ["created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


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
