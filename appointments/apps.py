from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Petitions and appointments")

    def ready(self) -> None:
        from . import signals
        from .video.tasks import on_appointment_scheduled

        signals.appointment_booked.connect(on_appointment_scheduled, dispatch_uid="video_sweep_on_book")
        signals.appointment_rescheduled.connect(on_appointment_scheduled, dispatch_uid="video_sweep_on_reschedule")

        from scheduler.signals import week_published

        from .notify.waitlist import on_week_published

        week_published.connect(on_week_published, dispatch_uid="waitlist_offers_on_publish")
