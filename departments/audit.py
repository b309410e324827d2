"""The audit trail: who did what to which record, and when, for every app. Rows are only ever added."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .services import Actor


class AuditEvent(models.Model):
    """Who did what to which record, and when. Rows are only ever added."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "departments"
        # The table keeps the name it was created with when the trail lived in appointments.
        db_table = "appointments_auditevent"
        ordering = ["-at"]
        # A record's history (the petition page) reads its events by target.
        indexes = [models.Index(fields=["target_type", "target_id", "at"], name="audit_by_target")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


def audit_record(
    *, actor: "Actor | None", action: str, target: models.Model, detail: dict | None = None, user=None
) -> AuditEvent:
    """Record an action on a model instance; detail must hold no personal data."""
    staff = actor.staff if actor else None
    return AuditEvent.objects.create(
        actor=actor.principal if actor else "system",
        user=user or (staff.user if staff else None),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        detail=detail or {},
    )
