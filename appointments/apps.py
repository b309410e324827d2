from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Petitions and appointments")

    def ready(self) -> None:
        from scheduler.signals import week_published

        from .notify.waitlist import on_week_published

        week_published.connect(on_week_published, dispatch_uid="waitlist_offers_on_publish")

        from django.db.models.signals import post_delete, post_save

        from .models import Appointment

        # A seat taken, freed or moved renews the department's cached open times (scheduler.availability_cache).
        post_save.connect(_appointment_changed, sender=Appointment, dispatch_uid="availability_appointment_save")
        post_delete.connect(_appointment_changed, sender=Appointment, dispatch_uid="availability_appointment_delete")


def _appointment_changed(sender, instance, **kwargs) -> None:
    from scheduler.availability_cache import availability_changed, cache_seconds
    from scheduler.models import Slot

    if not cache_seconds():
        return
    slot = instance._state.fields_cache.get("slot")
    if slot is not None:
        department_id = slot.department_id
    else:
        department_id = Slot.objects.filter(pk=instance.slot_id).values_list("department_id", flat=True).first()
    availability_changed([department_id] if department_id is not None else [None])
