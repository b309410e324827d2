"""Small builders for test data: a district, departments with rules, published weeks, people."""

import datetime as dt
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum.cn import ric

from appointments.models import PetitionCategory
from appointments.petitions import petition_create
from appointments.taxonomy import categories_install
from departments.models import Community, Department, District, StaffMember, Street
from departments.services import Actor, api_token_create, kiosk_key_create
from scheduler.models import ConsultationRule
from scheduler.publishing import week_publish

_counter = itertools.count(1)


def valid_id_number(birth: str = "19500101", serial: int | None = None) -> str:
    """A resident ID number with a correct check character (Shenyang city code)."""
    serial = next(_counter) % 1000 if serial is None else serial
    base = f"210100{birth}{serial:03d}"
    return base + ric.calc_check_digit(base + "0")


def valid_phone(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    return f"138{n:08d}"


def district() -> tuple[District, Street, Community, Community]:
    d, _ = District.objects.get_or_create(code="dadong", defaults={"name": "大东区"})
    s, _ = Street.objects.get_or_create(code="dadongjie", defaults={"district": d, "name": "大东街道"})
    c1, _ = Community.objects.get_or_create(code="lanshan", defaults={"street": s, "name": "蓝山社区"})
    c2, _ = Community.objects.get_or_create(code="fuan", defaults={"street": s, "name": "福安社区"})
    return d, s, c1, c2


def department(code: str = "fangchan", name: str = "区房产局", **kwargs) -> Department:
    dept, _ = Department.objects.get_or_create(code=code, defaults={"name": name, **kwargs})
    return dept


def rule(
    dept: Department,
    *,
    weekday: int,
    start="09:00",
    end="11:00",
    minutes=30,
    buffer=0,
    capacity=2,
    effective_from=dt.date(2020, 1, 1),
    notice=60,
    window=14,
    **kwargs,
) -> ConsultationRule:
    return ConsultationRule.objects.create(
        department=dept,
        weekday=weekday,
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
        session_minutes=minutes,
        buffer_minutes=buffer,
        capacity=capacity,
        effective_from=effective_from,
        min_notice_minutes=notice,
        booking_window_days=window,
        **kwargs,
    )


def weekday_rules(dept: Department, **kwargs) -> list[ConsultationRule]:
    return [rule(dept, weekday=w, **kwargs) for w in range(5)]


def publish_next_weeks(dept: Department, weeks: int = 2) -> None:
    today = timezone.localdate()
    for offset in range(0, 7 * weeks, 7):
        year, week, _ = (today + dt.timedelta(days=offset)).isocalendar()
        week_publish(department=dept, iso_year=year, iso_week=week, confirm_provisional_holidays=True)


def staff(username: str, role: str, *, department=None, community=None) -> StaffMember:
    user = get_user_model().objects.create_user(username=username, password="pw-for-tests-123")
    return StaffMember.objects.create(user=user, role=role, department=department, community=community)


def kiosk_actor(community: Community) -> tuple[Actor, str]:
    kiosk, key = kiosk_key_create(community=community)
    return Actor(kiosk=kiosk), key


def token_for(member: StaffMember) -> str:
    return api_token_create(staff=member, name="tests")[1]


def category(code: str = "housing") -> PetitionCategory:
    return PetitionCategory.objects.get(code=code)


def categories() -> None:
    """Make sure the default taxonomy exists (transactional tests flush what migrations seeded)."""
    if not PetitionCategory.objects.exists():
        categories_install(PetitionCategory)


def petition(actor: Actor, dept: Department, **kwargs):
    categories()
    values = {
        "name": "王秀兰",
        "phone": valid_phone(),
        "id_number": valid_id_number(),
        "category": "housing",
        "summary": "回迁房的房产证一直办不下来。",
        "department": dept.code,
    }
    values.update(kwargs)
    return petition_create(actor=actor, **values)


def local(value: str) -> dt.datetime:
    """An aware datetime in the service's zone (Asia/Shanghai) from 'YYYY-MM-DD HH:MM'."""
    from scheduler.publishing import service_zone

    return dt.datetime.fromisoformat(value).replace(tzinfo=service_zone())


def publish(dept: Department, week: str, **kwargs):
    """Publish one ISO week ('2026-W10') of a department and return the PublishResult."""
    from scheduler.publishing import iso_week_parse

    iso_year, iso_week = iso_week_parse(week)
    return week_publish(department=dept, iso_year=iso_year, iso_week=iso_week, **kwargs)
