"""Residents who reached a department's times at a kiosk and found none free: counted, never identified."""

import datetime as dt

from django.utils import timezone

from departments.models import Department, Kiosk

from ..models import TurnAway


def turn_away_record(
    *,
    department: Department,
    kiosk: Kiosk | None,
    reason: str = TurnAway.Reason.NO_FREE_TIME,
    now: dt.datetime | None = None,
) -> TurnAway:
    """Note that a resident found no free time with a department; only the place and the moment are kept."""
    if reason not in TurnAway.Reason.values:
        raise ValueError(f"Unknown turn-away reason: {reason}")
    return TurnAway.objects.create(
        department=department,
        community_id=kiosk.community_id if kiosk is not None else None,
        kiosk=kiosk,
        at=now or timezone.now(),
        reason=reason,
    )
