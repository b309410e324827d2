"""django-appointment's available-slots computation over 31 days, for the side-by-side in bench/availability.py.

Runs ONLY in the benchmark's own environment (never a dependency of the project):
    python3.12 -m venv bench/.venv-compare && bench/.venv-compare/bin/pip install django-appointment
    bench/.venv-compare/bin/python bench/compare_django_appointment.py
It sets up one staff member working Monday to Friday 09:00-16:30 in 30-minute slots with a third of the slots
booked, in a throwaway SQLite file (the most favourable database for it: no network round trips), and times
`get_available_slots_for_staff` for each of 31 days, as its booking page asks day by day. Prints one line:
`django-appointment 31 days: p50 X ms p95 Y ms (N slots)`.
"""

import datetime as dt
import os
import statistics
import sys
import tempfile
import time

import django
from django.conf import settings

ROUNDS = int(os.environ.get("COMPARE_ROUNDS", "30"))


def setup(path: str) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only-" + "x" * 40,
        USE_TZ=True,
        TIME_ZONE="Asia/Shanghai",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "phonenumber_field",
            "appointment",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": path}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        AUTH_USER_MODEL="auth.User",
        SILENCED_SYSTEM_CHECKS=["*"],
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)  # the package ships no migrations


def build(days: list[dt.date]):
    from appointment.models import Appointment, AppointmentRequest, Service, StaffMember, WorkingHours
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="staff", email="s@example.org", password="x" * 20)
    service = Service.objects.create(name="视频接访", duration=dt.timedelta(minutes=30), price=0)
    staff = StaffMember.objects.create(
        user=user, slot_duration=30, lead_time=dt.time(9), finish_time=dt.time(16, 30), work_on_saturday=False
    )
    staff.services_offered.add(service)
    # django-appointment counts days 0=Sunday..6=Saturday.
    WorkingHours.objects.bulk_create(
        WorkingHours(staff_member=staff, day_of_week=d, start_time=dt.time(9), end_time=dt.time(16, 30))
        for d in range(1, 6)
    )
    requests = []
    for day in days:
        if day.weekday() >= 5:
            continue
        for n in range(0, 15, 3):
            start = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=30 * n)
            requests.append(
                AppointmentRequest(
                    date=day,
                    start_time=start.time(),
                    end_time=(start + dt.timedelta(minutes=30)).time(),
                    service=service,
                    staff_member=staff,
                )
            )
    made = AppointmentRequest.objects.bulk_create(requests)
    clients = get_user_model().objects.bulk_create(
        get_user_model()(username=f"client{n}", email=f"c{n}@example.org") for n in range(len(made))
    )
    Appointment.objects.bulk_create(
        Appointment(client=c, appointment_request=r, phone="+8613912345678", address="沈阳市大东区")
        for c, r in zip(clients, made, strict=True)
    )
    return staff, service


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        setup(os.path.join(scratch, "compare.sqlite3"))
        from appointment.services import get_available_slots_for_staff

        today = dt.date.today() + dt.timedelta(days=1)
        days = [today + dt.timedelta(days=n) for n in range(31)]
        staff, service = build(days)
        samples, count = [], 0
        for _ in range(ROUNDS):
            began = time.perf_counter()
            count = 0
            for day in days:
                weekday = (day.weekday() + 1) % 7  # to django-appointment's 0=Sunday
                count += len(get_available_slots_for_staff(day, staff, weekday, service=service))
            samples.append(time.perf_counter() - began)
        samples.sort()
        p50, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
        print(f"django-appointment 31 days: p50 {p50 * 1000:.2f} ms p95 {p95 * 1000:.2f} ms ({count} slots)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
