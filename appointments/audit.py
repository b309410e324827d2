"""Append-only record of who did what."""

from departments.services import Actor

from .models import AuditEvent


def audit_record(*, actor: Actor | None, action: str, target, detail: dict | None = None, user=None) -> AuditEvent:
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
