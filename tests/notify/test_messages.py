"""The words of each SMS: every kind in both languages, the time as people read it, the length, and no personal data."""

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from appointments.booking import appointment_book
from appointments.models import Notification
from appointments.notify.messages import SEGMENT_CHARS, message_render, sms_when
from appointments.notify.services import notification_create
from appointments.outcomes.services import ItemIn, OutcomeIn, outcome_record
from departments.models import Community, Department
from tests import factories as f

Kind = Notification.Kind
# Names as long as real ones get: a community of seven characters, a department of eleven.
LONG_COMMUNITY = "东北大马路社区"
LONG_DEPARTMENT = "区人力资源和社会保障局"
REFERRED_TO = "区住房和城乡建设局"
# What each kind is sent with beyond its booking (a withdrawal reason of the length staff usually write).
VARIANTS = [
    ("booked", Kind.BOOKED, {}),
    ("reminder_24h", Kind.REMINDER_DAY, {}),
    ("reminder_1h", Kind.REMINDER_HOUR, {}),
    ("rescheduled", Kind.RESCHEDULED, {"previous_starts_at": "2026-12-03T09:30:00+08:00"}),
    ("cancelled", Kind.CANCELLED, {"reason": "resident"}),
    ("cancelled_referred", Kind.CANCELLED, {"reason": "referred", "to_department": REFERRED_TO}),
    ("withdrawn", Kind.WITHDRAWN, {"reason": "设备检修"}),
    ("waitlist_offer", Kind.WAITLIST_OFFER, {}),
    ("answered", Kind.ANSWERED, None),
]
# The kinds that fit one Chinese SMS (70 characters) with the default sign, names of usual length (蓝山社区,
# 区房产局) and the 1-hour reminder sent on the day; the others carry more than one segment can hold.
FIT_ONE_SEGMENT = {"booked", "reminder_24h", "reminder_1h", "cancelled"}


@pytest.fixture
def stage(kiosk, community, published, open_slots, dept_staff, settings):
    """Build one notification of every kind for a petition filed in `language`, rendered at the hour reminder."""

    def build(language: str, *, long_names: bool = False, name: str = "王秀兰"):
        if long_names:
            Community.objects.filter(pk=community.pk).update(name=LONG_COMMUNITY)
            Department.objects.filter(pk=published.pk).update(name=LONG_DEPARTMENT)
        with translation.override(language):
            petition = f.petition(kiosk, published, name=name)
        slot = open_slots[0]
        appointment = appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk).appointment
        outcome = outcome_record(
            actor=dept_staff,
            petition=petition,
            data=OutcomeIn(answer="经核实，已为您办理。", items=[ItemIn(request="办理房产证", decision="supported")]),
        )
        bodies = {}
        at_reminder = slot.starts_at - dt.timedelta(hours=1)
        for label, kind, detail in VARIANTS:
            if kind == Kind.ANSWERED:
                notification = Notification.objects.get(key=f"outcome:{outcome.pk}:answered")
            else:
                if kind == Kind.WAITLIST_OFFER:
                    detail = {"expires_at": (at_reminder + dt.timedelta(minutes=30)).isoformat()}
                notification = notification_create(
                    key=f"test:{label}", kind=kind, petition=petition, appointment=appointment, detail=detail
                )
            bodies[label] = message_render(notification, now=at_reminder)
        return petition, appointment, bodies

    return build


def test_the_time_reads_as_people_say_it():
    moment = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC) - dt.timedelta(hours=8)

    assert sms_when(moment, "zh-hans") == "12月3日(周四)09:30"
    assert sms_when(moment, "en") == "Thu 3 Dec 09:30"
    assert sms_when(moment + dt.timedelta(hours=5), "zh-hans", weekday=False) == "12月3日14:30"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_kind_renders_with_reference_time_place_and_query_code(stage, language):
    petition, appointment, bodies = stage(language)
    sign = "【信访局】"
    when = sms_when(appointment.slot.starts_at, language)
    clock = f"{timezone.localtime(appointment.slot.starts_at):%H:%M}"

    assert set(bodies) == {label for label, _kind, _detail in VARIANTS}
    for label, body in bodies.items():
        assert body.startswith(sign), label
        assert petition.reference in body, label
        assert petition.query_code in body, label
        assert "区房产局" in body, label
        assert "\n" not in body and "  " not in body, label
        if label != "answered" and label != "cancelled_referred":
            assert "蓝山社区" in body, label
        if label == "reminder_1h":
            assert clock in body and ("今天" in body or "today" in body), label
        elif label != "answered":
            assert when in body, label
    assert "设备检修" in bodies["withdrawn"]
    assert REFERRED_TO in bodies["cancelled_referred"]
    assert ("12月3日09:30" if language == "zh-hans" else "3 Dec 09:30") in bodies["rescheduled"]
    assert "/r/" in bodies["answered"]


def test_english_messages_are_in_english_and_chinese_ones_in_chinese(stage):
    _petition, _appointment, english = stage("en")

    assert english["booked"].startswith("【信访局】Booked: video consultation with 区房产局 on ")
    assert "预约" not in english["booked"]
    assert "Cancelled" in english["cancelled"]


def test_the_sign_comes_from_the_setting(stage, settings):
    settings.SMS_SIGNATURE = "【大东区信访局】"

    _petition, _appointment, bodies = stage("zh-hans")

    assert all(body.startswith("【大东区信访局】") for body in bodies.values())


def test_the_usual_messages_fit_one_chinese_sms(stage):
    _petition, _appointment, bodies = stage("zh-hans")

    lengths = {label: len(body) for label, body in bodies.items()}
    fitting = {label for label, length in lengths.items() if length <= SEGMENT_CHARS}
    assert fitting == FIT_ONE_SEGMENT, lengths


def test_with_long_names_no_message_fits_one_chinese_sms_but_none_runs_past_three(stage):
    _petition, _appointment, bodies = stage("zh-hans", long_names=True)

    lengths = {label: len(body) for label, body in bodies.items()}
    assert all(length > SEGMENT_CHARS for length in lengths.values()), lengths
    # Three concatenated UCS-2 segments hold 3 × 67 characters.
    assert max(lengths.values()) <= 3 * 67, lengths


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("name", ["王秀兰", "欧阳娜娜", "Li Wei"])
def test_no_message_carries_the_id_number_the_mobile_or_the_name(stage, language, name):
    petition, _appointment, bodies = stage(language, name=name)
    resident = petition.resident
    mobile = petition.contact_phone
    digits = re.sub(r"\D", "", mobile)[-11:]
    forbidden = {resident.id_number, digits, "+86" + digits, mobile, name, resident.name}
    if len(name) == 3 and name.isalpha() and not name.isascii():
        forbidden.add(name[1:])  # the given name alone is still a name

    for label, body in bodies.items():
        found = [value for value in forbidden if value and value in body]
        assert found == [], (label, found)
