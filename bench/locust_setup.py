"""Prepare and check a production-set-up database for the locust load test (bench/locustfile.py).

  python bench/locust_setup.py seed --kiosks 60 --out /tmp/locust-kiosks.json   departments with published
      weekday hours for two weeks, one community kiosk key per simulated kiosk (written to --out for locust)
  python bench/locust_setup.py check                                             overbookings after the run

Run with the app's virtualenv and the same environment as the servers (DATABASE_URL, DEBUG=0, keys, REDIS_URL).
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from departments.models import Community  # noqa: E402
from tests import factories as f  # noqa: E402

DEPARTMENTS = [("fangchan", "区房产局"), ("renshe", "区人社局"), ("minzheng", "区民政局"), ("zhujian", "区住建局")]


def seed(kiosks: int, out: Path) -> None:
    f.categories()
    _district, street, *_ = f.district()
    codes = []
    for code, name in DEPARTMENTS:
        department = f.department(code, name)
        if not department.rules.exists():
            f.weekday_rules(department, start="08:30", end="17:00", minutes=20, capacity=3, notice=0, window=14)
        f.publish_next_weeks(department, weeks=2)
        codes.append(code)
    keys = []
    for n in range(kiosks):
        community, _ = Community.objects.get_or_create(
            code=f"bench{n:03d}", defaults={"street": street, "name": f"压测社区{n:03d}"}
        )
        keys.append(f.kiosk_actor(community)[1])
    out.write_text(json.dumps({"kiosk_keys": keys, "departments": codes}))
    print(f"{len(keys)} kiosk keys and {len(codes)} departments written to {out}")


OVERBOOKED = """
SELECT count(*) FROM (
  SELECT s.id FROM scheduler_slot s JOIN appointments_appointment a ON a.slot_id = s.id
  WHERE a.status IN ('booked', 'checked_in') GROUP BY s.id, s.capacity HAVING count(*) > s.capacity
) over_capacity
"""
SEAT_TWICE = """
SELECT count(*) FROM (
  SELECT a.seat_id FROM appointments_appointment a
  WHERE a.status IN ('booked', 'checked_in') AND a.seat_id IS NOT NULL GROUP BY a.seat_id HAVING count(*) > 1
) twice
"""


def check() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERBOOKED)
        over = cursor.fetchone()[0]
        cursor.execute(SEAT_TWICE)
        twice = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM appointments_appointment WHERE status IN ('booked', 'checked_in')")
        active = cursor.fetchone()[0]
    print(json.dumps({"active_appointments": active, "slots_over_capacity": over, "seats_held_twice": twice}))
    return 1 if over or twice else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["seed", "check"])
    parser.add_argument("--kiosks", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("/tmp/locust-kiosks.json"))
    options = parser.parse_args()
    if options.action == "seed":
        seed(options.kiosks, options.out)
    else:
        sys.exit(check())
