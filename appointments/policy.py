"""Who may do what to appointments, petitions, video rooms, slips and messages: one function per permission.

Services, pages, API operations, admin actions and commands ask these functions and never look at roles
themselves; docs/permissions.md is the table of roles × actions they decide, and
tests/trust/test_permission_matrix.py checks every page and operation against it.

A caller who may not even see a record is answered 404 by the loaders (appointment_for_actor,
petition_for_actor), exactly as for one that does not exist; a caller who may see it but not do this gets 403.
"""

from departments.models import Department
from departments.policy import (
    can_manage_department,
    can_manage_every_department,
    can_see_department_figures,
    is_community_worker,
    is_department_admin,
    is_department_member,
    is_of_community,
    is_petition_officer,
)
from departments.services import Actor

from .models import Appointment, FollowUpSlip, Petition, VideoParticipantEvent

Side = VideoParticipantEvent.Side

__all__ = [
    "can_book_petition",
    "can_cancel_appointment",
    "can_check_in",
    "can_clear_video_flag",
    "can_correct_resident_name",
    "can_decide_petition",
    "can_end_video",
    "can_extend_petition",
    "can_file_petition_for",
    "can_handle_notification",
    "can_manage_department",
    "can_see_department_figures",
    "can_see_full_id_number",
    "can_view_appointment",
    "can_view_petition",
    "can_view_slip",
    "may_end_sessions",
    "may_follow_up_in_communities",
    "may_keep_hours",
    "may_open_community_day",
    "may_open_office",
    "may_open_sessions",
    "may_plan_every_department",
    "may_see_figures",
    "video_side",
]


# Appointments -------------------------------------------------------------------------------------------------


def can_view_appointment(actor: Actor, appointment: Appointment) -> bool:
    """Its community (kiosk, worker), its department (staff, admin) and the petition office."""
    return (
        is_petition_officer(actor)
        or is_department_member(actor, appointment.slot.department_id)
        or is_of_community(actor, appointment.community_id)
    )


def can_cancel_appointment(actor: Actor, appointment: Appointment) -> bool:
    """Cancel or move a resident's booking: at the resident's request (their community), the department's admin,
    or the petition office. Department staff hold the sessions but do not take residents' times away."""
    return (
        is_petition_officer(actor)
        or is_department_admin(actor, appointment.slot.department_id)
        or is_of_community(actor, appointment.community_id)
    )


def can_check_in(actor: Actor, appointment: Appointment) -> bool:
    """Check a resident in where they sit: their community's kiosk or worker, or the petition office."""
    return is_petition_officer(actor) or is_of_community(actor, appointment.community_id)


# Petitions ----------------------------------------------------------------------------------------------------


def can_file_petition_for(actor: Actor, department: Department) -> bool:
    """File a resident's matter with a department: a community (kiosk, worker) or the petition office for any
    department; a department's own staff only for their own department."""
    if actor.kiosk is not None:
        return actor.kiosk.is_active
    return is_petition_officer(actor) or is_community_worker(actor) or is_department_member(actor, department.pk)


def can_view_petition(actor: Actor, petition: Petition) -> bool:
    """Its community (kiosk, worker), the responsible department (staff, admin) and the petition office."""
    return (
        is_petition_officer(actor)
        or is_department_member(actor, petition.department_id)
        or is_of_community(actor, petition.community_id)
    )


def can_book_petition(actor: Actor, petition: Petition) -> bool:
    """Book a consultation for a petition: whoever may see it (a department books its own follow-ups)."""
    return can_view_petition(actor, petition)


def can_decide_petition(actor: Actor, petition: Petition) -> bool:
    """Accept, not accept, answer, correct, refer, close, complete commitments: the responsible department's staff
    and admin, or the petition office."""
    return is_petition_officer(actor) or is_department_member(actor, petition.department_id)


def can_extend_petition(actor: Actor, petition: Petition) -> bool:
    """Extend the statutory answer period (once, up to 30 days): the petition office only."""
    return is_petition_officer(actor)


def can_view_slip(actor: Actor, slip: FollowUpSlip) -> bool:
    """A follow-up slip is its community worker's, and the petition office's."""
    return is_petition_officer(actor) or is_community_worker(actor, slip.community_id)


def can_correct_resident_name(actor: Actor) -> bool:
    """Correct a registered name after checking the ID card: community workers and the petition office."""
    return is_petition_officer(actor) or is_community_worker(actor)


def can_see_full_id_number(actor: Actor) -> bool:
    """See a resident's full ID number (recorded each time): the petition office only."""
    return is_petition_officer(actor)


def can_handle_notification(actor: Actor, community_id: int | None) -> bool:
    """Follow up a failed SMS by phone: the resident's community worker or the petition office."""
    return is_petition_officer(actor) or is_community_worker(actor, community_id)


# Video rooms --------------------------------------------------------------------------------------------------


def video_side(actor: Actor, appointment: Appointment) -> str | None:
    """Which side of the table this caller sits on for this appointment, or None if they have no seat."""
    if actor.kiosk is not None:
        return Side.COMMUNITY if is_of_community(actor, appointment.community_id) else None
    staff = actor.staff
    if staff is None or not staff.user.is_active:
        return None
    if is_petition_officer(actor):
        return Side.PETITION_OFFICE
    if is_department_member(actor, appointment.slot.department_id):
        return Side.DEPARTMENT
    if is_community_worker(actor, appointment.community_id):
        return Side.COMMUNITY
    return None


def can_end_video(actor: Actor, appointment: Appointment) -> bool:
    """End a room for everyone: the department holding the session, or the petition office."""
    return video_side(actor, appointment) in (Side.DEPARTMENT, Side.PETITION_OFFICE)


def can_clear_video_flag(actor: Actor) -> bool:
    return is_petition_officer(actor)


# Pages (who may open which staff page at all; the records on it are scoped by the functions above) ------------


def may_open_sessions(actor: Actor) -> bool:
    staff = actor.staff
    return staff is not None and is_department_member(actor, staff.department_id)


def may_open_community_day(actor: Actor) -> bool:
    return is_community_worker(actor)


def may_open_office(actor: Actor) -> bool:
    return is_petition_officer(actor)


def may_end_sessions(actor: Actor) -> bool:
    return may_open_sessions(actor) or is_petition_officer(actor)


def may_keep_hours(actor: Actor) -> bool:
    staff = actor.staff
    return is_petition_officer(actor) or (staff is not None and can_manage_department(actor, staff.department_id))


def may_see_figures(actor: Actor) -> bool:
    """Petition lists, the dashboard and the weekly report: a department's own, or the whole district's."""
    staff = actor.staff
    return is_petition_officer(actor) or (staff is not None and can_see_department_figures(actor, staff.department_id))


def may_follow_up_in_communities(actor: Actor) -> bool:
    """Follow-up slips and failed SMS: community workers (their community's) and the petition office."""
    return is_petition_officer(actor) or is_community_worker(actor)


def may_plan_every_department(actor: Actor) -> bool:
    """Next week's hours of every department from demand: the petition office."""
    return can_manage_every_department(actor)
