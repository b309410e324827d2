"""The admin of the scheduler and of departments: hostile values in every field of every form never cause a 500."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model

from scheduler.models import Closure, HolidayOverride, HolidayYear
from tests import factories as f

pytestmark = pytest.mark.django_db

HOSTILE = [
    "99999999999",
    "-1",
    "abc",
    "３０",
    "",
    "x" * 10_000,
    "\x00",
    "a\x07b",
    "\u202eab",
    "\u200b\u200d",
    "'; DROP TABLE scheduler_slot; --",
    "9999-99-99",
]
# Never right in any field: every form that has a text field must refuse these.
NEVER_RIGHT = {"x" * 10_000, "\x00", "a\x07b", "\u202eab", "\u200b\u200d"}
FIELD_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"')
APPS = ("scheduler", "departments")


@pytest.fixture
def superuser_client(client, published, community):
    Closure.objects.create(department=published, start_date="2027-01-04", end_date="2027-01-05", reason="盘点")
    HolidayOverride.objects.create(date="2027-01-04", kind="holiday", name="测试")
    HolidayYear.objects.create(year=2026)
    f.token_for(f.staff("someone", "department_staff", department=published))
    f.kiosk_actor(community)
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-for-tests-123"))
    return client


def admin_forms() -> list[tuple[str, type]]:
    return [
        (f"/admin/{model._meta.app_label}/{model._meta.model_name}/", model)
        for model in admin.site._registry
        if model._meta.app_label in APPS
    ]


@pytest.mark.parametrize("base, model", admin_forms(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_admin_form_answers_hostile_values_without_a_server_error(superuser_client, base, model):
    urls = [f"{base}add/"]
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        urls.append(f"{base}{first.pk}/change/")
    for url in urls:
        form = superuser_client.get(url)
        if form.status_code == 403:  # no adding: these records come from services
            continue
        assert form.status_code == 200, url
        names = {n for n in FIELD_NAME.findall(form.content.decode()) if n != "csrfmiddlewaretoken" and n[0] != "_"}
        if not names:  # shown read-only: these records change only through admin actions that call services
            assert superuser_client.post(url, dict.fromkeys(["status"], "closed")).status_code == 403, url
            continue
        for value in HOSTILE:
            response = superuser_client.post(url, dict.fromkeys(names, value))
            assert response.status_code in (200, 302), (url, value[:30], response.status_code)
            if value in NEVER_RIGHT and names and response.status_code == 302:
                pytest.fail(f"{url} accepted {value[:30]!r} in every field")
    assert superuser_client.get(f"{base}?q=%00&o=999&p=999999999999").status_code < 500
