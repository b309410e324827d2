"""Who may act for which organisation: the role rules that scheduling and appointments build their permissions on.

Each permission is a function of the caller (an Actor) and ids, so that every app below appointments can ask it
too; appointments/policy.py adds the permissions on appointments, petitions and video rooms. docs/permissions.md
is the table of roles × actions these functions decide.
"""

from typing import TYPE_CHECKING

from .models import StaffMember

if TYPE_CHECKING:
    from .services import Actor

Role = StaffMember.Role
DEPARTMENT_ROLES = (Role.DEPARTMENT_STAFF, Role.DEPARTMENT_ADMIN)


def is_petition_officer(actor: "Actor") -> bool:
    """The petition office (信访局) acts district-wide."""
    # Deactivated users never become an Actor: sign-in and tokens refuse them.
    staff = actor.staff
    return staff is not None and staff.role == Role.PETITION_OFFICER


def is_department_member(actor: "Actor", department_id: int | None) -> bool:
    """Staff or admin of this very department (职能部门): never of another one."""
    staff = actor.staff
    return (
        staff is not None
        and department_id is not None
        and staff.role in DEPARTMENT_ROLES
        and staff.department_id == department_id
    )


def is_department_admin(actor: "Actor", department_id: int | None) -> bool:
    staff = actor.staff
    return (
        staff is not None
        and department_id is not None
        and staff.role == Role.DEPARTMENT_ADMIN
        and staff.department_id == department_id
    )


def is_community_worker(actor: "Actor", community_id: int | None = None) -> bool:
    """A community worker (社区工作人员), of this community when one is given."""
    staff = actor.staff
    if staff is None or staff.role != Role.COMMUNITY_WORKER or staff.community_id is None:
        return False
    return community_id is None or staff.community_id == community_id


def is_of_community(actor: "Actor", community_id: int | None) -> bool:
    """The kiosk or a community worker of this community: the resident's side of the table."""
    if community_id is None:
        return False
    if actor.kiosk is not None:
        return actor.kiosk.is_active and actor.kiosk.community_id == community_id
    return is_community_worker(actor, community_id)


def can_manage_department(actor: "Actor", department_id: int | None) -> bool:
    """Keep a department's hours, closures, published weeks, consultation times and calendar feed."""
    return is_petition_officer(actor) or is_department_admin(actor, department_id)


def can_manage_every_department(actor: "Actor") -> bool:
    """Closures for everyone and next week's planned hours of every department: the petition office."""
    return is_petition_officer(actor)


def can_see_department_figures(actor: "Actor", department_id: int | None) -> bool:
    """The dashboard, the weekly report and petition lists of a department."""
    return is_petition_officer(actor) or is_department_member(actor, department_id)
