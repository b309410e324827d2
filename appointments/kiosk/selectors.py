"""Reads for the resident-facing kiosk: the categories and departments to choose from, and a petition's progress."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from departments.models import Department

from ..booking import appointment_queryset
from ..models import Appointment, Petition, PetitionCategory


def category_list_active() -> list[PetitionCategory]:
    """List the categories a resident can choose, in their display order."""
    return list(PetitionCategory.objects.filter(is_active=True).select_related("suggested_department"))


def department_list_bookable(*, suggested: str | None = None) -> list[Department]:
    """List the departments a resident may book: the one suggested for their matter first, then functional ones."""
    departments = list(Department.objects.filter(is_active=True).order_by("kind", "name"))
    # A stable sort: everything but the suggestion keeps its order.
    return sorted(departments, key=lambda department: department.code != suggested)


@dataclass(frozen=True)
class PetitionProgress:
    petition: Petition
    # The active appointment if there is one, else the most recent one, else None.
    appointment: Appointment | None

    def can_change_at(self, community_id: int, *, now: dt.datetime | None = None) -> bool:
        """Tell whether the kiosk of this community may offer cancel and reschedule."""
        now = now or timezone.now()
        appointment = self.appointment
        return (
            appointment is not None
            and appointment.status == Appointment.Status.BOOKED
            and appointment.community_id == community_id
            and appointment.slot.starts_at > now
        )


def petition_progress_get(*, petition_id: int) -> PetitionProgress | None:
    """Load a petition with the appointment a resident cares about, in a fixed number of queries."""
    petition = (
        Petition.objects.select_related("resident", "department", "category", "community")
        .filter(pk=petition_id)
        .first()
    )
    if petition is None:
        return None
    appointment = (
        appointment_queryset()
        .filter(petition=petition)
        .annotate(
            active_first=Case(
                When(status__in=Appointment.ACTIVE_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("active_first", "-created_at", "-pk")
        .first()
    )
    return PetitionProgress(petition=petition, appointment=appointment)
