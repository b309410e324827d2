"""A rule's numbers are bounded once and held to it everywhere (model, database, form, admin); reads never overflow."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments.staff.views import RuleForm
from scheduler.models import (
    BOOKING_WINDOW_DAYS,
    BUFFER_MINUTES,
    CAPACITY,
    MIN_NOTICE_MINUTES,
    SESSION_MINUTES,
    ConsultationRule,
    HolidayYear,
    Slot,
)
from scheduler.selectors import slot_booking_error, slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db

RULE_BOUNDS = {
    "session_minutes": SESSION_MINUTES,
    "buffer_minutes": BUFFER_MINUTES,
    "capacity": CAPACITY,
    "min_notice_minutes": MIN_NOTICE_MINUTES,
    "booking_window_days": BOOKING_WINDOW_DAYS,
}
SLOT_BOUNDS = {"min_notice_minutes": MIN_NOTICE_MINUTES, "booking_window_days": BOOKING_WINDOW_DAYS}


def out_of_bounds(bound) -> list[int]:
    """Values just outside the bound and far outside it, within what the column itself can hold."""
    return [v for v in (bound.low - 1, bound.high + 1, 32767) if v >= 0 and not bound.low <= v <= bound.high]


def test_the_issue_figures_hold():
    assert MIN_NOTICE_MINUTES.high == 30 * 24 * 60
    assert BOOKING_WINDOW_DAYS.high == 180


@pytest.mark.parametrize("field, bound", RULE_BOUNDS.items())
def test_the_model_accepts_the_bounds_and_refuses_beyond_them(department, field, bound):
    rule = f.rule(department, weekday=0)
    for value in (bound.low, bound.high):
        setattr(rule, field, value)
        rule.full_clean()
    for value in out_of_bounds(bound):
        setattr(rule, field, value)
        with pytest.raises(ValidationError) as excinfo:
            rule.full_clean()
        assert field in excinfo.value.message_dict


@pytest.mark.parametrize("field, bound", RULE_BOUNDS.items())
def test_the_database_refuses_a_rule_beyond_the_bounds_even_past_the_model(department, field, bound):
    rule = f.rule(department, weekday=0)
    for value in out_of_bounds(bound):
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsultationRule.objects.filter(pk=rule.pk).update(**{field: value})
    rule.refresh_from_db()
    assert bound.low <= getattr(rule, field) <= bound.high


@pytest.mark.parametrize("field, bound", SLOT_BOUNDS.items())
def test_the_database_refuses_a_slot_beyond_the_bounds(published, field, bound):
    slot = Slot.objects.filter(department=published).first()
    for value in out_of_bounds(bound):
        with pytest.raises(IntegrityError), transaction.atomic():
            Slot.objects.filter(pk=slot.pk).update(**{field: value})


def test_the_database_refuses_a_holiday_year_nobody_announced(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        HolidayYear.objects.create(year=32000)


def rule_post(**overrides) -> dict[str, str]:
    data = {
        "rule-weekday": "2",
        "rule-start_time": "14:00",
        "rule-end_time": "16:00",
        "rule-session_minutes": "30",
        "rule-buffer_minutes": "0",
        "rule-capacity": "2",
        "rule-effective_from": "2026-01-01",
        "rule-min_notice_minutes": "60",
        "rule-booking_window_days": "14",
    }
    data.update({f"rule-{k}": v for k, v in overrides.items()})
    return data


@pytest.mark.parametrize("field, bound", RULE_BOUNDS.items())
def test_the_staff_form_shows_and_holds_the_same_bounds(field, bound):
    form = RuleForm(prefix="rule")
    widget = str(form[field])
    assert f'min="{bound.low}"' in widget and f'max="{bound.high}"' in widget
    for value in (bound.low, bound.high):
        assert RuleForm(rule_post(**{field: str(value)}), prefix="rule").is_valid()
    for value in [*out_of_bounds(bound), 99999999999, -1, 2**70]:
        refused = RuleForm(rule_post(**{field: str(value)}), prefix="rule")
        assert not refused.is_valid() and field in refused.errors


def test_the_admin_refuses_a_rule_beyond_the_bounds_with_a_message(client, department):
    admin = get_user_model().objects.create_superuser("root", password="pw-for-tests-123")
    client.force_login(admin)
    data = {
        "department": department.pk,
        "weekday": "0",
        "start_time": "09:00",
        "end_time": "11:00",
        "session_minutes": "30",
        "buffer_minutes": "0",
        "capacity": "2",
        "effective_from": "2026-01-01",
        "min_notice_minutes": "99999999999",
        "booking_window_days": "14",
    }

    response = client.post("/admin/scheduler/consultationrule/add/", data)

    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not ConsultationRule.objects.exists()
    data["min_notice_minutes"] = str(MIN_NOTICE_MINUTES.high)
    assert client.post("/admin/scheduler/consultationrule/add/", data).status_code == 302


def test_the_admin_refuses_a_closure_reason_with_a_direction_override(client, department):
    admin = get_user_model().objects.create_superuser("root", password="pw-for-tests-123")
    client.force_login(admin)
    data = {"department": department.pk, "start_date": "2026-12-24", "end_date": "2026-12-25"}

    refused = client.post("/admin/scheduler/closure/add/", {**data, "reason": "年终\u202e盘点"})
    accepted = client.post("/admin/scheduler/closure/add/", {**data, "reason": " 年终盘点 "})

    assert refused.status_code == 200 and b"errorlist" in refused.content
    assert accepted.status_code == 302
    assert department.closures.get().reason == "年终盘点"


def test_the_admin_refuses_a_department_name_of_only_invisible_characters(client, department):
    admin = get_user_model().objects.create_superuser("root", password="pw-for-tests-123")
    client.force_login(admin)

    response = client.post(
        f"/admin/departments/department/{department.pk}/change/",
        {"code": department.code, "name": "\u200b\u200d", "kind": "functional", "description": "", "is_active": "on"},
    )

    assert response.status_code == 200 and b"errorlist" in response.content
    department.refresh_from_db()
    assert department.name == "区房产局"


@pytest.mark.parametrize(
    "notice, window, bookable",
    [(99999999999, 14, False), (60, 99999999999, True), (2**63, 2**63, False), (-(2**63), 14, True)],
)
def test_a_slot_read_never_overflows_whatever_it_holds(published, now, notice, window, bookable):
    # Changed in memory only: the database refuses these values, so this is the last line of defence.
    slot = Slot.objects.select_related("week").filter(department=published, starts_at__gt=now).first()
    check_at = slot.starts_at - dt.timedelta(hours=2)
    slot.min_notice_minutes, slot.booking_window_days = notice, window

    error = slot_booking_error(slot, now=check_at, closed=set())

    assert (error is None) is bookable


def test_the_public_list_still_answers_after_a_huge_notice_is_refused(client, dept_admin, published):
    client.force_login(dept_admin.staff.user)

    response = client.post(
        f"/staff/hours/{published.code}/", {"action": "rule-save", **rule_post(min_notice_minutes="99999999999")}
    )

    assert response.status_code == 200 and b'class="error"' in response.content
    assert not published.rules.filter(min_notice_minutes__gt=MIN_NOTICE_MINUTES.high).exists()
    assert client.get(f"/api/v1/departments/{published.code}/slots").status_code == 200
    assert slot_list_open(department=published)
