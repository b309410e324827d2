from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerConfig(AppConfig):
    name = "scheduler"
    verbose_name = _("Consultation hours")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .availability_cache import on_calendar_changed, on_department_row_changed
        from .models import Closure, HolidayOverride, ScheduleWeek, Slot

        # What the open times are made of: a change renews the department's cached times (availability_cache).
        for model in (Slot, ScheduleWeek, Closure):
            for signal in (post_save, post_delete):
                signal.connect(on_department_row_changed, sender=model, dispatch_uid=f"availability_{model.__name__}")
        for signal in (post_save, post_delete):
            signal.connect(on_calendar_changed, sender=HolidayOverride, dispatch_uid="availability_HolidayOverride")
