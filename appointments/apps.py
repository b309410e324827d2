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
