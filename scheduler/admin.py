"""The admin of the scheduling core: rules, closures and holidays are configuration kept here (numbers bounded by the
models' validators, text through text_clean); weeks and slots are the publishing services', changed only by actions."""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .admin_actions import admin_actor, each_through_service
from .hours import week_publish_by_staff
from .models import Closure, ConsultationRule, HolidayOverride, HolidayYear, ScheduleWeek
from .text import TextCleaningModelForm


@admin.register(ConsultationRule)
class ConsultationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "weekday",
        "start_time",
        "end_time",
        "session_minutes",
        "capacity",
        "effective_from",
        "effective_until",
    ]
    list_filter = ["department", "weekday"]
    form = TextCleaningModelForm


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["start_date", "end_date", "department", "reason"]
    list_filter = ["department"]
    form = TextCleaningModelForm


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    form = TextCleaningModelForm


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    list_display = ["year", "announced_on", "note"]
    form = TextCleaningModelForm


@admin.register(ScheduleWeek)
class ScheduleWeekAdmin(admin.ModelAdmin):
    """Weeks are the publishing service's: shown here, published (again) only through week_publish_by_staff."""

    list_display = ["department", "iso_year", "iso_week", "status", "published_at"]
    list_filter = ["status", "department"]
    readonly_fields = ["department", "iso_year", "iso_week", "status", "published_at", "published_by"]
    actions = ["publish_from_rules", "publish_confirming_provisional_holidays"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _publish(self, request, queryset, *, confirm: bool) -> None:
        actor = admin_actor(self, request)
        if actor is None:
            return
        each_through_service(
            self,
            request,
            queryset.select_related("department"),
            lambda week: week_publish_by_staff(
                actor=actor,
                department=week.department,
                iso_year=week.iso_year,
                iso_week=week.iso_week,
                confirm_provisional_holidays=confirm,
            ),
            done_message=_("%(count)d weeks published from the current rules."),
        )

    @admin.action(description=gettext_lazy("Publish again from the current rules"))
    def publish_from_rules(self, request, queryset):
        self._publish(request, queryset, confirm=False)

    @admin.action(description=gettext_lazy("Publish again, confirming a provisional holiday year"))
    def publish_confirming_provisional_holidays(self, request, queryset):
        self._publish(request, queryset, confirm=True)


# Slots are registered in appointments/admin.py: withdrawing one cancels its bookings, which appointments own.
