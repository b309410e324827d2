"""The admin of the scheduling core: numbers are bounded by the models' validators, text goes through text_clean."""

from django.contrib import admin

from .models import Closure, ConsultationRule, HolidayOverride, HolidayYear, ScheduleWeek, Slot
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
    list_display = ["department", "iso_year", "iso_week", "status", "published_at"]
    list_filter = ["status", "department"]
    # A week comes into being by publishing, which checks that it exists, is near and has not ended.
    readonly_fields = ["department", "iso_year", "iso_week", "published_at", "published_by"]

    def has_add_permission(self, request):
        return False


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["department", "starts_at", "ends_at", "capacity", "status"]
    list_filter = ["department", "status"]
    date_hierarchy = "starts_at"
    # Seats and status change only through publishing and withdrawal, which keep bookings safe.
    readonly_fields = [
        "department",
        "week",
        "rule",
        "starts_at",
        "ends_at",
        "capacity",
        "status",
        "min_notice_minutes",
        "booking_window_days",
        "withdrawn_reason",
    ]

    def has_add_permission(self, request):
        return False
