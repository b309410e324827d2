"""Load a believable demo district: 大东区 with its streets, communities, kiosks, departments and staff."""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from appointments import identity
from appointments.booking import appointment_book
from appointments.models import Appointment, Petition, PetitionCategory
from appointments.petitions import petition_create
from appointments.video.tasks import attendance_sweep_schedule
from departments.models import Community, Department, District, Kiosk, StaffMember, Street
from departments.services import Actor, kiosk_key_create, kiosk_key_rotate
from scheduler.errors import DomainError
from scheduler.models import ConsultationRule, ScheduleWeek, Seat, Slot
from scheduler.publishing import week_publish
from scheduler.selectors import slot_list_open

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published demo login, printed by make run

DEPARTMENTS = [
    ("xinfang", "区信访局", Department.Kind.PETITION_OFFICE, "统筹协调视频接访，跟踪每件信访事项"),
    ("fangchan", "区房产局", Department.Kind.FUNCTIONAL, "房屋产权、物业管理、回迁安置"),
    ("renshe", "区人社局", Department.Kind.FUNCTIONAL, "劳动关系、工资拖欠、社会保险"),
    ("sifa", "区司法局", Department.Kind.FUNCTIONAL, "人民调解、法律援助"),
    ("chengguan", "区城管局", Department.Kind.FUNCTIONAL, "市容环境、违章建筑、占道经营"),
    ("zhujian", "区住建局", Department.Kind.FUNCTIONAL, "城乡建设、市政设施、老旧小区改造"),
    ("shichang", "区市场监管局", Department.Kind.FUNCTIONAL, "消费维权、食品安全、商品质量"),
    ("minzheng", "区民政局", Department.Kind.FUNCTIONAL, "低保救助、养老服务、残疾人帮扶"),
    ("jiaoyu", "区教育局", Department.Kind.FUNCTIONAL, "入学、学校管理、校园安全"),
]

CATEGORY_DEPARTMENT = {
    "urban-rural-construction": "zhujian",
    "housing": "fangchan",
    "labour-social-security": "renshe",
    "natural-resources": "zhujian",
    "environment": "chengguan",
    "market-regulation": "shichang",
    "public-security": "sifa",
    "agriculture": "minzheng",
    "education": "jiaoyu",
    "health": "minzheng",
    "civil-affairs": "minzheng",
    "transport": "chengguan",
    "other": "xinfang",
}

STREETS = {
    ("dadongjie", "大东街道"): [
        "蓝山社区",
        "福安社区",
        "魁星社区",
        "辛家村",
        "东站社区",
        "新东社区",
        "二台子社区",
        "长安社区",
        "和睦社区",
        "天后宫社区",
    ],
    ("xiaodongjie", "小东街道"): [
        "东塔社区",
        "万泉社区",
        "大什字社区",
        "东宁社区",
        "东顺社区",
        "八王寺社区",
        "前进社区",
        "小河沿社区",
        "东陵社区",
        "望花社区",
    ],
    ("jinqiaojie", "津桥街道"): [
        "津桥社区",
        "沈海社区",
        "东北社区",
        "合作社区",
        "劳动社区",
        "滂江社区",
        "东站南社区",
        "新光社区",
        "联合路社区",
        "上园社区",
    ],
}

# (weekday, start, end, session minutes, buffer, capacity) per department; sized to expected demand.
RULES = {
    "fangchan": [(0, "09:00", "11:30", 30, 0, 2), (2, "14:00", "16:30", 30, 0, 2), (4, "09:00", "11:30", 30, 0, 2)],
    "renshe": [(1, "09:00", "11:30", 30, 0, 2), (3, "14:00", "16:30", 30, 0, 1)],
    "sifa": [(0, "14:00", "16:00", 30, 10, 1), (3, "09:00", "11:00", 30, 10, 1)],
    "chengguan": [(1, "14:00", "16:00", 20, 10, 1), (4, "14:00", "16:00", 20, 10, 1)],
    "zhujian": [(2, "09:00", "11:30", 30, 0, 2)],
    "shichang": [(0, "09:00", "11:00", 20, 10, 1), (3, "14:00", "16:00", 20, 10, 1)],
    "minzheng": [(1, "09:00", "11:30", 30, 0, 2), (4, "09:00", "11:30", 30, 0, 1)],
    "jiaoyu": [(2, "14:00", "16:00", 30, 0, 1)],
    "xinfang": [(0, "09:00", "11:30", 30, 0, 1), (2, "09:00", "11:30", 30, 0, 1), (4, "14:00", "16:30", 30, 0, 1)],
}

# Made-up residents with valid ID numbers (GB 11643 checksums) with Shenyang's city code 210100.
DEMO_RESIDENTS = [
    ("王秀兰", "13840012345", "210100194703150025"),
    ("李建国", "13998765432", "21010019520808001X"),
    ("张淑珍", "15840023456", "210100194906120029"),
    ("刘德福", "18640034567", "210100195511230017"),
]
DEMO_MATTERS = [
    ("housing", "回迁房已经交付三年，房产证一直办不下来，想问什么时候能办。"),
    ("labour-social-security", "小区保洁公司拖欠我两个月工资，多次找公司没有结果。"),
    ("civil-affairs", "老伴去世后低保待遇需要重新核定，不知道该准备什么材料。"),
    ("environment", "楼下饭店油烟和噪音很大，晚上十一点还在营业。"),
]

# The session kept joinable whatever the hour: 区房产局 with a resident at 蓝山社区, starting in a few minutes.
JOIN_NOW_RESIDENT = ("陈玉梅", "13604056789", "21010019610417004X")
JOIN_NOW_MATTER = ("housing", "楼上漏水三个月了，物业和开发商互相推诿，想请房产局帮忙协调维修。")
JOIN_NOW_DEPARTMENT = "fangchan"
JOIN_NOW_STARTS_IN = dt.timedelta(minutes=5)
JOIN_NOW_LENGTH = dt.timedelta(minutes=30)


class Command(BaseCommand):
    help = "Load the demo district (idempotent) and print the demo logins and a fresh kiosk key."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins and key.")

    def handle(self, *args, **options):
        with transaction.atomic():
            departments = self._departments()
            communities = self._places()
            kiosk_key = self._kiosks(communities)
            logins = self._staff(departments, communities)
            self._rules(departments)
        self._publish(departments)
        self._bookings(communities)
        joinable = self._session_joinable_now(departments[JOIN_NOW_DEPARTMENT], communities[0])
        if not options["quiet_logins"]:
            self.stdout.write(self.style.SUCCESS("Demo district loaded: 大东区."))
            self.stdout.write(f"Staff logins (password: {DEMO_PASSWORD}):")
            for username, role in logins:
                self.stdout.write(f"  {username:<22} {role}")
            self.stdout.write(f"Kiosk key for 蓝山社区 (shown once; a new one each run):\n  {kiosk_key}")
            starts = timezone.localtime(joinable.slot.starts_at)
            self.stdout.write(
                f"A video session you can join now (区房产局 with 蓝山社区, starts {starts:%H:%M}): sign in as "
                f"fangchan_staff or lanshan_worker and open /staff/sessions/{joinable.pk}/join/"
            )

    def _departments(self) -> dict[str, Department]:
        result = {}
        for code, name, kind, description in DEPARTMENTS:
            result[code], _ = Department.objects.update_or_create(
                code=code, defaults={"name": name, "kind": kind, "description": description}
            )
        for category_code, department_code in CATEGORY_DEPARTMENT.items():
            PetitionCategory.objects.filter(code=category_code).update(suggested_department=result[department_code])
        return result

    def _places(self) -> list[Community]:
        district, _ = District.objects.get_or_create(code="dadong", defaults={"name": "大东区"})
        communities = []
        for (street_code, street_name), names in STREETS.items():
            street, _ = Street.objects.get_or_create(
                code=street_code, defaults={"district": district, "name": street_name}
            )
            for index, name in enumerate(names, start=1):
                community, _ = Community.objects.get_or_create(
                    code=f"{street_code}-{index:02d}",
                    defaults={
                        "street": street,
                        "name": name,
                        "kind": Community.Kind.VILLAGE if name.endswith("村") else Community.Kind.COMMUNITY,
                        "address": f"沈阳市大东区{street_name}{name}党群服务中心一楼",
                    },
                )
                communities.append(community)
        return communities

    def _kiosks(self, communities: list[Community]) -> str:
        for community in communities:
            if not community.kiosks.exists():
                kiosk_key_create(community=community, name=f"{community.name}自助终端")
        lanshan = Kiosk.objects.filter(community__name="蓝山社区").first()
        if lanshan is None:
            raise CommandError("The demo community 蓝山社区 has no kiosk.")
        return kiosk_key_rotate(kiosk=lanshan)

    def _staff(self, departments, communities) -> list[tuple[str, str]]:
        user_model = get_user_model()
        people = [
            ("officer", "赵主任", StaffMember.Role.PETITION_OFFICER, departments["xinfang"], None),
            ("fangchan_admin", "钱科长", StaffMember.Role.DEPARTMENT_ADMIN, departments["fangchan"], None),
            ("fangchan_staff", "孙干事", StaffMember.Role.DEPARTMENT_STAFF, departments["fangchan"], None),
            ("renshe_admin", "周科长", StaffMember.Role.DEPARTMENT_ADMIN, departments["renshe"], None),
            ("renshe_staff", "吴干事", StaffMember.Role.DEPARTMENT_STAFF, departments["renshe"], None),
            ("minzheng_staff", "郑干事", StaffMember.Role.DEPARTMENT_STAFF, departments["minzheng"], None),
            ("lanshan_worker", "冯社工", StaffMember.Role.COMMUNITY_WORKER, None, communities[0]),
            ("fuan_worker", "陈社工", StaffMember.Role.COMMUNITY_WORKER, None, communities[1]),
        ]
        logins = []
        for username, name, role, department, community in people:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"first_name": name, "is_staff": role == StaffMember.Role.PETITION_OFFICER}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            StaffMember.objects.update_or_create(
                user=user, defaults={"role": role, "department": department, "community": community}
            )
            logins.append((username, f"{StaffMember.Role(role).label} · {(department or community).name}"))
        admin, created = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "first_name": "系统管理员"}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        logins.append(("admin", "Django admin (superuser)"))
        return logins

    def _rules(self, departments) -> None:
        start_of_year = dt.date(timezone.localdate().year, 1, 1)
        for code, rules in RULES.items():
            if ConsultationRule.objects.filter(department=departments[code]).exists():
                continue
            ConsultationRule.objects.bulk_create(
                ConsultationRule(
                    department=departments[code],
                    weekday=weekday,
                    start_time=dt.time.fromisoformat(start),
                    end_time=dt.time.fromisoformat(end),
                    session_minutes=minutes,
                    buffer_minutes=buffer,
                    capacity=capacity,
                    effective_from=start_of_year,
                    min_notice_minutes=60,
                    booking_window_days=14,
                )
                for weekday, start, end, minutes, buffer, capacity in rules
            )

    def _publish(self, departments) -> None:
        today = timezone.localdate()
        for offset in (0, 7):
            year, week, _ = (today + dt.timedelta(days=offset)).isocalendar()
            for department in departments.values():
                # Demo data may run into a year whose holidays are not yet announced: confirm explicitly.
                week_publish(department=department, iso_year=year, iso_week=week, confirm_provisional_holidays=True)

    def _bookings(self, communities) -> None:
        if Petition.objects.exists():
            return
        rng = random.Random(2023)
        kiosks = {k.community_id: k for k in Kiosk.objects.filter(community__in=communities[:4])}
        for (name, phone, id_number), (category, summary), community in zip(
            DEMO_RESIDENTS, DEMO_MATTERS, communities[:4], strict=True
        ):
            actor = Actor(kiosk=kiosks[community.pk])
            petition = petition_create(
                actor=actor, name=name, phone=phone, id_number=id_number, category=category, summary=summary
            )
            slots = [s for s in slot_list_open(department=petition.department) if s.remaining]
            if not slots:
                continue
            slot = rng.choice(slots[: max(1, len(slots) // 2)])
            try:
                appointment_book(actor=actor, petition_reference=petition.reference, slot_id=slot.pk)
            except DomainError:
                continue

    def _session_joinable_now(self, department: Department, community: Community) -> Appointment:
        """Keep one booked session whose video room opens now, whatever the hour, so the join page can be seen.

        Published hours never cover every hour, so this session has a slot of its own, outside the rules. Each run
        moves it to start a few minutes from now; only once it has been held (or missed) is a new one filed.
        """
        starts = (timezone.now() + JOIN_NOW_STARTS_IN).replace(second=0, microsecond=0)
        name, phone, id_number = JOIN_NOW_RESIDENT
        category, summary = JOIN_NOW_MATTER
        kiosk = Actor(kiosk=Kiosk.objects.get(community=community, revoked_at__isnull=True))
        appointment = (
            Appointment.objects.filter(
                petition__resident__id_number_hash=identity.lookup_hash(id_number),
                petition__summary=summary,
                status__in=(Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN),
            )
            .select_related("slot")
            .first()
        )
        if appointment is not None:
            self._demo_slot_put(department, starts=starts, slot=appointment.slot)
            attendance_sweep_schedule(appointment)  # the sweeps queued for the old time find nothing to do
            return appointment
        petition = petition_create(
            actor=kiosk,
            name=name,
            phone=phone,
            id_number=id_number,
            category=category,
            summary=summary,
            department=department.code,
        )
        slot = self._demo_slot_put(department, starts=starts)
        return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk).appointment

    def _demo_slot_put(self, department: Department, *, starts: dt.datetime, slot: Slot | None = None) -> Slot:
        """Put the demo's own slot at `starts`, creating it if needed, at a start time no other slot has."""
        others = Slot.objects.filter(department=department)
        if slot is not None:
            others = others.exclude(pk=slot.pk)
        while others.filter(starts_at=starts).exists():
            starts += dt.timedelta(minutes=1)
        year, week, _ = timezone.localtime(starts).isocalendar()
        schedule = ScheduleWeek.objects.get(department=department, iso_year=year, iso_week=week)
        values = {"week": schedule, "starts_at": starts, "ends_at": starts + JOIN_NOW_LENGTH}
        if slot is not None:
            Slot.objects.filter(pk=slot.pk).update(**values)
            slot.refresh_from_db()
            return slot
        slot = Slot.objects.create(department=department, capacity=1, min_notice_minutes=0, **values)
        Seat.objects.create(slot=slot, number=1)
        return slot
