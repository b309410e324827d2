import datetime as dt

import pytest
from django.utils import timezone

from departments.models import StaffMember
from departments.services import Actor
from scheduler.selectors import slot_list_open

from . import factories as f


@pytest.fixture
def places(db):
    return f.district()


@pytest.fixture
def community(places):
    return places[2]


@pytest.fixture
def other_community(places):
    return places[3]


@pytest.fixture
def department(db):
    return f.department()


@pytest.fixture
def other_department(db):
    return f.department("renshe", "区人社局")


@pytest.fixture
def published(department):
    """The department with consultation hours every weekday, published for this week and next."""
    f.weekday_rules(department)
    f.publish_next_weeks(department)
    return department


@pytest.fixture
def kiosk(community):
    actor, key = f.kiosk_actor(community)
    actor.key = key
    return actor


@pytest.fixture
def other_kiosk(other_community):
    actor, key = f.kiosk_actor(other_community)
    actor.key = key
    return actor


@pytest.fixture
def officer(department):
    return Actor(staff=f.staff("officer", StaffMember.Role.PETITION_OFFICER))


@pytest.fixture
def dept_admin(department):
    return Actor(staff=f.staff("dept_admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department))


@pytest.fixture
def dept_staff(department):
    return Actor(staff=f.staff("dept_staff", StaffMember.Role.DEPARTMENT_STAFF, department=department))


@pytest.fixture
def outsider(other_department):
    return Actor(staff=f.staff("outsider", StaffMember.Role.DEPARTMENT_ADMIN, department=other_department))


@pytest.fixture
def open_slots(published):
    """Bookable slots of the published department, earliest first."""
    return [s for s in slot_list_open(department=published) if s.remaining]


@pytest.fixture
def petition(kiosk, published):
    return f.petition(kiosk, published)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def tomorrow():
    return timezone.localdate() + dt.timedelta(days=1)
