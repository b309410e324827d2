"""Load a believable demo district: 大东区 with its streets, communities, kiosks, departments, staff, and petitions
in every state of their lifecycle."""

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from appointments import identity
from appointments.booking import appointment_book
from appointments.models import Appointment, Petition, PetitionCategory
from appointments.outcomes.lifecycle import (
    petition_accept,
    petition_close,
    petition_deadline_refresh,
    petition_extend,
    petition_not_accept,
)
from appointments.outcomes.services import (
    CommitmentIn,
    ItemIn,
    OutcomeIn,
    SlipIn,
    commitment_complete,
    outcome_record,
    rating_give,
    review_request,
    slip_close,
)
from appointments.petitions import petition_create
from appointments.video.base import video_provider
from appointments.video.services import (
    participant_identity,
    video_attendance_sweep,
    video_callback_record,
    video_session_get_or_create,
)
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


@dataclass(frozen=True)
class Story:
    """One demo petition and how far it has come. Its summary identifies it, so each story is told once."""

    plot: str  # which _plot_* method takes the petition on from filing
    community: int  # index into the demo's communities: 0 蓝山社区, 1 福安社区, 2 魁星社区, 3 辛家村, 4 东站社区
    resident: tuple[str, str, str]  # name, mobile, ID number (made up, valid GB 11643 check characters)
    category: str
    summary: str


# Petitions in every state of the lifecycle, with overdue deadlines, an extension, a referral, commitments, slips
# open and closed at 蓝山社区 and 福安社区, ratings and a review under way. Each goes through the services; only
# the dates on which a petition was received are moved into the past, so that deadlines fall due.
STORIES = [
    Story(
        "received",
        0,
        ("朱秀英", "13904051234", "210104193908150628"),
        "civil-affairs",
        "母亲今年八十六岁，想申请居家养老上门服务，不知道符合不符合条件。",
    ),
    Story(
        "acceptance_overdue",
        1,
        ("孙长林", "13704052345", "210104194809260439"),
        "housing",
        "小区二次供水水箱多年没有清洗，自来水有异味，物业一直推脱。",
    ),
    Story(
        "accepted",
        2,
        ("吴海涛", "15940063456", "210103197308190353"),
        "labour-social-security",
        "在建筑工地干了半年活，包工头拖欠工资一万二千元，找总包单位也不给。",
    ),
    Story(
        "answer_overdue",
        3,
        ("赵德厚", "13514074567", "210104195203140218"),
        "housing",
        "回迁安置房实际面积比安置协议少了六平方米，要求补偿差价。",
    ),
    Story(
        "extended",
        0,
        ("韩建华", "18640085678", "210104196301280331"),
        "housing",
        "老旧小区改造后楼道墙皮大面积脱落，要求施工单位返修。",
    ),
    Story(
        "not_accepted",
        4,
        ("周立军", "13050096789", "210102196105050675"),
        "public-security",
        "与邻居的房屋买卖合同纠纷法院已经立案，希望督促法院尽快判决。",
    ),
    Story(
        "in_consultation",
        0,
        ("蒋志强", "13842107890", "210104197806120717"),
        "labour-social-security",
        "公司单方面解除劳动合同，不给经济补偿，也不出具离职证明。",
    ),
    Story(
        "answered",
        1,
        ("冯桂芝", "13390118901", "210105195707300242"),
        "housing",
        "楼上邻居装修把我家卫生间顶棚泡坏了，物业不管，邻居也不赔。",
    ),
    Story(
        "commitments",
        0,
        ("沈福生", "13998129012", "210102195009170496"),
        "housing",
        "小区电梯经常停运，老人上下楼很困难，要求物业尽快维修。",
    ),
    Story(
        "slip_open",
        0,
        ("卫红梅", "15204130123", "210103196904230169"),
        "civil-affairs",
        "低保年审后被停发了，家里老伴常年吃药，确实困难，希望重新核查。",
    ),
    Story(
        "slip_overdue",
        1,
        ("秦浩然", "18842141234", "210103199111070170"),
        "labour-social-security",
        "小区保安公司入职一年多一直不给交社会保险。",
    ),
    Story(
        "slip_closed",
        1,
        ("褚凤琴", "13166152345", "210104194401020888"),
        "civil-affairs",
        "残疾人两项补贴申请了三个月还没批下来，不知道卡在哪个环节。",
    ),
    Story(
        "closed",
        0,
        ("许德明", "13591163456", "210104195512250939"),
        "housing",
        "供暖不热，室温只有十四度，热力公司来看过一次就没下文了。",
    ),
    Story(
        "referred",
        2,
        ("郑晓丽", "18504174567", "210104198502110522"),
        "housing",
        "物业公司拖欠保洁员工资三个月，物业说是因为房产局的维修资金没拨下来。",
    ),
    Story(
        "review",
        3,
        ("杨丽娜", "15642185678", "210105198203040583"),
        "housing",
        "拆迁补偿款计算有误，院子里的仓房和果树等附属物没有算进去。",
    ),
]


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
        told = self._stories(departments, communities)
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
            if told:
                self.stdout.write(f"Demo petitions filed and taken through their lifecycle: {told}.")

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
        # Since last year, so that the past weeks the demo's held sessions need have hours even in January.
        start_of_year = dt.date(timezone.localdate().year - 1, 1, 1)
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
                petition__resident__id_number_hash__in=identity.lookup_hashes(id_number),
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

    # Petitions in every state -------------------------------------------------------------------------------------

    def _stories(self, departments: dict[str, Department], communities: list[Community]) -> int:
        """File each story's petition once and take it as far as its plot goes; return how many were filed."""
        self.now = timezone.now()
        self.cast = {
            username: Actor(staff=StaffMember.objects.select_related("user").get(user__username=username))
            for username in ("officer", "fangchan_staff", "renshe_staff", "minzheng_staff", "lanshan_worker")
            + ("fuan_worker",)
        }
        self.departments = departments
        told = 0
        for story in STORIES:
            if Petition.objects.filter(summary=story.summary).exists():
                continue
            community = communities[story.community]
            kiosk = Actor(kiosk=Kiosk.objects.get(community=community, revoked_at__isnull=True))
            name, phone, id_number = story.resident
            petition = petition_create(
                actor=kiosk, name=name, phone=phone, id_number=id_number, category=story.category, summary=story.summary
            )
            getattr(self, f"_plot_{story.plot}")(petition, kiosk)
            told += 1
        return told

    def _ago(self, days: float, *, at: str = "10:00") -> dt.datetime:
        """A moment `days` days before now, at a plausible office hour."""
        day = timezone.localdate(self.now) - dt.timedelta(days=days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.fromisoformat(at)))

    def _received(self, petition: Petition, when: dt.datetime) -> Petition:
        """Date a petition's receipt back, as if it had been filed then, and start its clock from that day."""
        Petition.objects.filter(pk=petition.pk).update(received_at=when)
        petition.refresh_from_db()
        return petition_deadline_refresh(petition=petition)

    def _past_booking(self, petition: Petition, kiosk: Actor) -> Appointment | None:
        """Book a petition into a consultation of its department held in one of the last few weeks.

        Booking goes through the booking service as of two hours before the session; the past week is published
        first (as it was, back then). Long holidays may leave a week without hours, so up to four are tried.
        """
        latest_end = self.now - dt.timedelta(hours=2)
        for weeks_back in range(1, 5):
            year, week, _ = (timezone.localdate(self.now) - dt.timedelta(weeks=weeks_back)).isocalendar()
            try:
                week_publish(
                    department=petition.department, iso_year=year, iso_week=week, confirm_provisional_holidays=True
                )
            except DomainError:
                continue
            slots = Slot.objects.filter(
                department=petition.department,
                week__iso_year=year,
                week__iso_week=week,
                status=Slot.Status.OPEN,
                ends_at__lte=latest_end,
            ).order_by("-starts_at")
            for slot in slots:
                try:
                    return appointment_book(
                        actor=kiosk,
                        petition_reference=petition.reference,
                        slot_id=slot.pk,
                        now=slot.starts_at - dt.timedelta(hours=2),
                    ).appointment
                except DomainError:
                    continue
        return None

    def _session_held(self, appointment: Appointment, kiosk: Actor, department_staff: Actor) -> None:
        """Both sides joined the video room, as the provider reports it; the attendance sweep then completes it."""
        session = video_session_get_or_create(appointment=appointment, provider_name=video_provider().name)
        joined = appointment.slot.starts_at + dt.timedelta(minutes=1)
        left = appointment.slot.ends_at - dt.timedelta(minutes=2)
        for n, (actor, side) in enumerate([(kiosk, "community"), (department_staff, "department")]):
            participant = "PA" + hashlib.sha256(f"{session.room_name}:{n}".encode()).hexdigest()[:32]
            for event, when in (("participant-connected", joined), ("participant-disconnected", left)):
                video_callback_record(
                    params={
                        "StatusCallbackEvent": event,
                        "Timestamp": when.isoformat(),
                        "RoomName": session.room_name,
                        "ParticipantSid": participant,
                        "ParticipantIdentity": participant_identity(actor, side),
                    }
                )
        grace = dt.timedelta(minutes=settings.VIDEO_NO_SHOW_GRACE_MINUTES + 1)
        video_attendance_sweep(now=appointment.slot.ends_at + grace)

    def _held_and_dated(self, petition: Petition, kiosk: Actor, staff: str) -> Appointment | None:
        """A session held in the past: received a few days before it, booked, attended by both sides."""
        appointment = self._past_booking(petition, kiosk)
        if appointment is None:
            return None
        self._received(petition, appointment.slot.starts_at - dt.timedelta(days=4, hours=3))
        self._session_held(appointment, kiosk, self.cast[staff])
        return appointment

    # Each plot takes a freshly filed petition on -------------------------------------------------------------

    def _plot_received(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self.now - dt.timedelta(hours=3))

    def _plot_acceptance_overdue(self, petition: Petition, kiosk: Actor) -> None:
        # 26 days: overdue even when the 15th day fell in the Spring Festival and moved on by a week.
        self._received(petition, self._ago(26, at="09:20"))

    def _plot_accepted(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(8, at="14:40"))
        petition_accept(actor=self.cast["renshe_staff"], petition=petition, now=self._ago(6, at="09:30"))

    def _plot_answer_overdue(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(85, at="10:15"))
        petition_accept(actor=self.cast["fangchan_staff"], petition=petition, now=self._ago(80, at="16:00"))

    def _plot_extended(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(68, at="11:00"))
        petition_accept(actor=self.cast["fangchan_staff"], petition=petition, now=self._ago(64, at="15:10"))
        petition_extend(
            actor=self.cast["officer"],
            petition=petition,
            days=25,
            reason="需要委托第三方检测机构对改造工程质量进行鉴定，鉴定意见出具后再作答复。",
        )

    def _plot_not_accepted(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(5, at="10:40"))
        petition_not_accept(
            actor=self.cast["officer"],
            petition=petition,
            reason="该纠纷已由人民法院立案受理，属于诉讼程序，依照《信访工作条例》第三十一条，信访部门不予受理。"
            "案件进展可向法院查询。",
            redirect_to="大东区人民法院诉讼服务中心",
            now=self._ago(3, at="09:00"),
        )

    def _plot_in_consultation(self, petition: Petition, kiosk: Actor) -> None:
        # Held last week with 区人社局; the answer has not been written yet.
        self._held_and_dated(petition, kiosk, "renshe_staff")

    def _plot_answered(self, petition: Petition, kiosk: Actor) -> None:
        appointment = self._past_booking(petition, kiosk)
        when = self._ago(9)
        if appointment is not None:
            self._received(petition, appointment.slot.starts_at - dt.timedelta(days=5))
            when = appointment.slot.starts_at + dt.timedelta(minutes=20)
        else:
            self._received(petition, self._ago(14))
        outcome_record(
            actor=self.cast["fangchan_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="经现场查看，卫生间顶棚受损是楼上装修时防水层破坏漏水所致。视频接访中已与楼上住户、物业当面"
                "协商：由楼上住户承担维修费用，物业负责组织施工，本周内完成。如施工未按期完成，可拨打物业科电话反映。",
                items=[
                    ItemIn(request="楼上住户赔偿卫生间顶棚维修费用", decision="supported"),
                    ItemIn(request="物业公司承担管理责任", decision="explained"),
                ],
                legal_basis="《中华人民共和国民法典》第一千一百六十五条；《物业管理条例》第三十五条",
            ),
            now=when,
        )
        rating_give(actor=kiosk, petition=petition, level="satisfied", remark="当场就协调好了，谢谢")

    def _plot_commitments(self, petition: Petition, kiosk: Actor) -> None:
        appointment = self._past_booking(petition, kiosk)
        when = self._ago(6)
        if appointment is not None:
            self._received(petition, appointment.slot.starts_at - dt.timedelta(days=6))
            when = appointment.slot.starts_at + dt.timedelta(minutes=15)
        else:
            self._received(petition, self._ago(12))
        told = timezone.localdate(when)
        outcome = outcome_record(
            actor=self.cast["fangchan_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="电梯主机老化是停运的主要原因。物业公司承诺先更换曳引机钢丝绳并每周维保一次；区房产局"
                "物业科将在一个月内上门检查维修情况，并协调使用专项维修资金更换主机。",
                items=[
                    ItemIn(request="尽快修复电梯", decision="supported"),
                    ItemIn(request="更换整部电梯", decision="partly_supported"),
                ],
                commitments=[
                    CommitmentIn(
                        responsible="东盛物业公司",
                        action="更换3号楼电梯曳引机钢丝绳，恢复正常运行",
                        due_on=told + dt.timedelta(days=3),
                    ),
                    CommitmentIn(
                        responsible="区房产局物业科",
                        action="上门检查电梯维修情况，协调专项维修资金更换主机",
                        due_on=told + dt.timedelta(days=30),
                    ),
                ],
            ),
            now=when,
        )
        first = outcome.commitments.order_by("due_on").first()
        if first is not None:
            commitment_complete(
                actor=self.cast["fangchan_staff"],
                commitment_id=first.pk,
                note="钢丝绳已更换，电梯经特检院检验合格后恢复运行。",
                now=min(when + dt.timedelta(days=3), self.now),
            )

    def _plot_slip_open(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(10, at="09:05"))
        told = self._ago(3, at="15:30")
        outcome_record(
            actor=self.cast["minzheng_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="年审时系统显示您家庭收入超过低保标准，所以暂停发放。考虑到老伴长期就医的支出，区民政局"
                "将按支出型贫困重新核定，请社区入户核实收入和医疗支出后报民政局。",
                items=[ItemIn(request="恢复低保待遇", decision="partly_supported")],
                legal_basis="《社会救助暂行办法》第十一条",
                slip=SlipIn(
                    to_check="入户核实家庭成员收入、老伴近一年医疗费用票据，填写支出型贫困家庭核查表后报区民政局。",
                    due_on=timezone.localdate(told) + dt.timedelta(days=14),
                ),
            ),
            now=told,
        )

    def _plot_slip_overdue(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(40, at="10:30"))
        told = self._ago(25, at="14:00")
        outcome_record(
            actor=self.cast["renshe_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="用人单位应当为职工缴纳社会保险。区人社局已向保安公司下达劳动保障监察责令改正决定书，"
                "要求其20日内为您补缴入职以来的社会保险费。",
                items=[ItemIn(request="为本人补缴社会保险", decision="supported")],
                legal_basis="《中华人民共和国社会保险法》第五十八条、第八十六条",
                commitments=[
                    CommitmentIn(
                        responsible="区人社局劳动保障监察大队",
                        action="督促保安公司补缴社会保险费并核查缴费记录",
                        due_on=timezone.localdate(told) + dt.timedelta(days=20),
                    )
                ],
                slip=SlipIn(
                    to_check="回访居民，确认社保缴费记录是否已经补上，公司有无打击报复。",
                    due_on=timezone.localdate(told) + dt.timedelta(days=10),
                ),
            ),
            now=told,
        )

    def _plot_slip_closed(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(45, at="09:40"))
        told = self._ago(30, at="10:20")
        outcome = outcome_record(
            actor=self.cast["minzheng_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="您的申请在街道初审时缺少残疾证复印件，已由民政局直接补齐并审批通过，补贴从申请当月起补发。",
                items=[ItemIn(request="尽快审批残疾人两项补贴", decision="supported")],
                slip=SlipIn(
                    to_check="确认补贴是否已经到账，帮助居民查询银行流水。",
                    due_on=timezone.localdate(told) + dt.timedelta(days=14),
                ),
            ),
            now=told,
        )
        slip = outcome.slips.first()
        if slip is not None:
            slip_close(
                actor=self.cast["fuan_worker"],
                slip_id=slip.pk,
                findings="已陪同居民到银行查询，三个月补贴共计1,140元已全部到账，居民表示认可。",
                now=told + dt.timedelta(days=9),
            )
        rating_give(actor=kiosk, petition=petition, level="basically_satisfied", remark="到账了，就是等得有点久")

    def _plot_closed(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(50, at="08:50"))
        told = self._ago(40, at="11:10")
        outcome = outcome_record(
            actor=self.cast["fangchan_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="热力公司检查发现单元供暖管道阀门故障，已于答复当日更换，室温恢复到20度以上。请社区一周后回访。",
                items=[ItemIn(request="解决室温不达标问题", decision="supported")],
                legal_basis="《沈阳市城市供热条例》第二十六条",
                slip=SlipIn(
                    to_check="一周后回访，测量室温是否达到18度以上。",
                    due_on=timezone.localdate(told) + dt.timedelta(days=7),
                ),
            ),
            now=told,
        )
        slip = outcome.slips.first()
        if slip is not None:
            slip_close(
                actor=self.cast["lanshan_worker"],
                slip_id=slip.pk,
                findings="入户测温21度，同单元另外两户也已正常供暖。",
                now=told + dt.timedelta(days=6),
            )
        rating_give(actor=kiosk, petition=petition, level="satisfied")
        petition_close(actor=self.cast["officer"], petition=petition)

    def _plot_referred(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(4, at="13:30"))
        # It had been booked with 区房产局; the referral cancels that session.
        open_slots = [s for s in slot_list_open(department=petition.department) if s.remaining]
        if open_slots:
            try:
                appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[-1].pk)
            except DomainError:
                pass
        outcome_record(
            actor=self.cast["fangchan_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="维修资金的拨付与保洁员工资无关：该小区的专项维修资金已按申请拨付。拖欠工资属于劳动保障"
                "监察事项，已转送区人社局办理，区人社局会与您联系。",
                items=[
                    ItemIn(request="说明维修资金拨付情况", decision="explained"),
                    ItemIn(
                        request="督促物业公司支付保洁员工资",
                        decision="referred",
                        referred_to="renshe",
                        referral_reason="拖欠工资属区人社局劳动保障监察职责",
                    ),
                ],
            ),
        )

    def _plot_review(self, petition: Petition, kiosk: Actor) -> None:
        self._received(petition, self._ago(30, at="10:00"))
        told = self._ago(12, at="16:20")
        outcome_record(
            actor=self.cast["fangchan_staff"],
            petition=petition,
            data=OutcomeIn(
                answer="经核对评估报告，仓房属于未经登记的临时建筑，按规定给予材料费补助，已计入补偿款；"
                "果树补偿已按棵数计算。补偿款计算无误。",
                items=[
                    ItemIn(request="重新计算仓房补偿", decision="not_supported"),
                    ItemIn(request="说明果树补偿标准", decision="explained"),
                ],
                legal_basis="《国有土地上房屋征收与补偿条例》第十九条、第二十四条",
            ),
            now=told,
        )
        rating_give(actor=kiosk, petition=petition, level="dissatisfied", remark="仓房是九几年就盖的，有照片证明")
        review_request(
            actor=kiosk,
            petition=petition,
            reason="仓房建于1996年，有当年的照片和邻居证明，要求复查附属物补偿。",
            now=told + dt.timedelta(days=2),
        )
