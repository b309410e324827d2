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


# Real area codes from across China, old and new (several are missing from or dated in python-stdnum's table:
# 210104/210105 "[1983-]", 440106 "[1985-]", 810000 "[1997-]", 210107 and 830000 absent), plus the residence
# permits of Hong Kong, Macao and Taiwan residents. An area code is where a number was issued, not a birthplace.
AREA_CODES = [
    "210104",  # 沈阳市大东区
    "210105",  # 沈阳市皇姑区
    "210102",  # 沈阳市和平区
    "210103",  # 沈阳市沈河区
    "210107",  # 沈阳市 (retired code)
    "210100",  # 沈阳市
    "110101",  # 北京市东城区
    "120101",  # 天津市和平区
    "130102",  # 石家庄市长安区
    "140105",  # 太原市小店区
    "150102",  # 呼和浩特市新城区
    "220102",  # 长春市南关区
    "230103",  # 哈尔滨市南岗区
    "310104",  # 上海市徐汇区
    "320102",  # 南京市玄武区
    "330106",  # 杭州市西湖区
    "340104",  # 合肥市蜀山区
    "350102",  # 福州市鼓楼区
    "360102",  # 南昌市东湖区
    "370202",  # 青岛市市南区
    "410105",  # 郑州市金水区
    "420106",  # 武汉市武昌区
    "430104",  # 长沙市岳麓区
    "440106",  # 广州市天河区
    "450103",  # 南宁市青秀区
    "460105",  # 海口市秀英区
    "500103",  # 重庆市渝中区
    "510107",  # 成都市武侯区
    "520102",  # 贵阳市南明区
    "530102",  # 昆明市五华区
    "540102",  # 拉萨市城关区
    "610113",  # 西安市雁塔区
    "620102",  # 兰州市城关区
    "630102",  # 西宁市城东区
    "640104",  # 银川市兴庆区
    "650102",  # 乌鲁木齐市天山区
    "710000",  # 台湾省
    "810000",  # 香港居民居住证
    "820000",  # 澳门居民居住证
    "830000",  # 台湾居民居住证
]


def id_number_for(area: str, birth: str, serial: int) -> str:
    """An ID number with the given area code, birth date (YYYYMMDD) and serial, and its right check character."""
    base = f"{area}{birth}{serial:03d}"
    return base + ric.calc_check_digit(base + "0")


def valid_id_number(birth: str | None = None, serial: int | None = None, area: str | None = None) -> str:
    """A real-shaped resident ID number: area codes from many provinces, birth dates from 1920 on."""
    n = next(_counter)
    serial = n % 1000 if serial is None else serial
    area = AREA_CODES[n % len(AREA_CODES)] if area is None else area
    if birth is None:
        born = dt.date(1920, 1, 1) + dt.timedelta(days=(n * 2713) % (365 * 86))
        birth = f"{born:%Y%m%d}"
    return id_number_for(area, birth, serial)


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
    """Publish one ISO week ('2026-W10') of a department and return the PublishResult.

    Straight through the service, so tests may set up weeks long past (staff can publish only coming weeks).
    """
    iso_year, iso_week, _weekday = dt.date.fromisoformat(f"{week}-1").isocalendar()
    return week_publish(department=dept, iso_year=iso_year, iso_week=iso_week, **kwargs)
