"""Community kiosks under load: browse departments and times, file, book, check progress, reschedule, cancel.

Each simulated user is one kiosk with its own key (a real kiosk's traffic is counted per kiosk), talking to the
production set-up (gunicorn, DEBUG=0, PostgreSQL, Redis) over loopback through the API the kiosk pages share their
services with, plus the kiosk's start page. See docs/performance.md ("Production serving") for how to run it:

  /tmp/bench-venv/bin/locust -f bench/locustfile.py --headless -u 40 -r 4 -t 5m --host http://127.0.0.1:8000 \\
      --csv /tmp/locust --only-summary

LOCUST_KIOSKS names the JSON written by `bench/locust_setup.py seed` (kiosk keys and department codes).
"""

import datetime as dt
import itertools
import json
import os
import random
import uuid

from locust import HttpUser, between, task

SETUP = json.loads(open(os.environ.get("LOCUST_KIOSKS", "/tmp/locust-kiosks.json"), encoding="utf-8").read())
KIOSK_KEYS = itertools.cycle(SETUP["kiosk_keys"])
DEPARTMENTS = SETUP["departments"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀兰", "建国", "桂英", "志强", "淑珍", "海燕", "立军", "玉梅", "德明", "春花"]
AREAS = ["210102", "210103", "210104", "210105", "210106", "210111", "210112", "210113", "110105", "370202"]
SUMMARIES = [
    "回迁房的房产证一直办不下来，已经等了三年。",
    "单位拖欠工资已经半年，劳动监察一直没有处理结果。",
    "小区加装电梯的补贴申请被退回，没有说明理由。",
    "低保资格复核后被取消，家里情况没有变化。",
]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number() -> str:
    """A valid resident ID number (GB 11643 check character) with a real birth date and varied area codes."""
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=random.randrange(0, 365 * 65))
    body = f"{random.choice(AREAS)}{birth:%Y%m%d}{random.randrange(0, 1000):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def phone() -> str:
    return random.choice(["138", "139", "150", "186", "177"]) + f"{random.randrange(10**8):08d}"


class Kiosk(HttpUser):
    """One community kiosk: a resident every few seconds doing one of the things residents do."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.key = next(KIOSK_KEYS)
        self.client.headers.update({"X-Kiosk-Key": self.key, "Accept-Language": "zh-hans"})
        self.client.cookies.set("kiosk_key", self.key)
        self.booked: list[int] = []

    # Reads.

    def open_slots(self, department: str) -> list[dict]:
        today = dt.date.today()
        query = f"from={today.isoformat()}&to={(today + dt.timedelta(days=13)).isoformat()}"
        with self.client.get(
            f"/api/v1/departments/{department}/slots?{query}",
            name="/api/v1/departments/[code]/slots",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"slots: {response.status_code}")
                return []
            body = response.json()
            slots = body["items"] if isinstance(body, dict) else body
            return [slot for slot in slots if slot.get("remaining", 1) > 0]

    @task(4)
    def browse(self) -> None:
        self.client.get("/kiosk/", name="/kiosk/ (start page)")
        self.client.get("/api/v1/departments")
        self.open_slots(random.choice(DEPARTMENTS))

    @task(3)
    def check_progress(self) -> None:
        if not self.booked:
            return self.browse()
        appointment = random.choice(self.booked)
        self.client.get(f"/api/v1/appointments/{appointment}", name="/api/v1/appointments/[id]")

    # Writes.

    @task(3)
    def file_and_book(self) -> None:
        department = random.choice(DEPARTMENTS)
        resident = {"name": random.choice(SURNAMES) + random.choice(GIVEN), "phone": phone(), "id_number": id_number()}
        body = {"resident": resident, "category": "housing", "summary": random.choice(SUMMARIES)}
        filed = self.client.post("/api/v1/petitions", json={**body, "department": department})
        if filed.status_code != 201:
            return
        slots = self.open_slots(department)
        if not slots:
            return
        # Residents mostly take one of the first times offered, so bookings collide as they do at a real office.
        slot = random.choice(slots[:5])
        headers = {"Idempotency-Key": f"locust-{uuid.uuid4()}"}
        with self.client.post(
            "/api/v1/appointments",
            json={"petition": filed.json()["reference"], "slot": slot["id"]},
            headers=headers,
            catch_response=True,
        ) as booked:
            if booked.status_code == 201:
                self.booked.append(booked.json()["id"])
            elif booked.status_code == 409:
                booked.success()  # taken by another kiosk a moment earlier: the resident picks another time
            else:
                booked.failure(f"book: {booked.status_code} {booked.text[:200]}")

    @task(1)
    def reschedule(self) -> None:
        if not self.booked:
            return
        appointment = random.choice(self.booked)
        shown = self.client.get(f"/api/v1/appointments/{appointment}", name="/api/v1/appointments/[id]")
        if shown.status_code != 200 or shown.json().get("status") != "booked":
            return
        department = shown.json()["department"]
        slots = self.open_slots(department["code"] if isinstance(department, dict) else department)
        if not slots:
            return
        with self.client.post(
            f"/api/v1/appointments/{appointment}/reschedule",
            json={"slot": random.choice(slots[:8])["id"]},
            name="/api/v1/appointments/[id]/reschedule",
            catch_response=True,
        ) as moved:
            if moved.status_code == 200:
                self.booked.remove(appointment)
                self.booked.append(moved.json()["id"])
            elif moved.status_code in (409, 422):
                moved.success()  # taken meanwhile, or another department's time: refused cleanly
            else:
                moved.failure(f"reschedule: {moved.status_code} {moved.text[:200]}")

    @task(1)
    def cancel(self) -> None:
        if not self.booked:
            return
        appointment = self.booked.pop(random.randrange(len(self.booked)))
        with self.client.post(
            f"/api/v1/appointments/{appointment}/cancel",
            json={"reason": "家里有事，改天再来。"},
            name="/api/v1/appointments/[id]/cancel",
            catch_response=True,
        ) as cancelled:
            if cancelled.status_code in (200, 409):
                cancelled.success()
            else:
                cancelled.failure(f"cancel: {cancelled.status_code} {cancelled.text[:200]}")
