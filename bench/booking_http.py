"""Booking over HTTP through gunicorn on the city data set, beside pgbench's single-INSERT rate (bench/booking.py)."""

import datetime as dt
import http.client
import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import city
from django.db import connection
from django.utils import timezone

from appointments.models import Petition, PetitionCategory, Resident
from departments.models import Community
from scheduler.models import SEAT_HOLDING_STATUSES, Slot
from tests import factories as f

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = (16, 64)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(count: int) -> tuple[str, list[tuple[str, int]]]:
    """A kiosk and `count` fresh petitions, each paired with a free, bookable time of its department."""
    community = Community.objects.order_by("pk").first()
    _actor, key = f.kiosk_actor(community)
    now = timezone.now()
    slots = list(
        Slot.objects.filter(
            status=Slot.Status.OPEN,
            starts_at__gt=now + dt.timedelta(hours=3),
            starts_at__lt=now + dt.timedelta(days=28),
            appointments__isnull=True,
        )
        .order_by("?")
        .values_list("pk", "department_id", "capacity")[:count]
    )
    category = PetitionCategory.objects.order_by("pk").first()
    stamp = int(time.time())
    jobs = []
    pairs = [(slot_id, department_id) for slot_id, department_id, capacity in slots for _ in range(capacity)][:count]
    residents = Resident.objects.bulk_create(
        Resident(
            name=f"压测{n}",
            phone=f"+86137{n:08d}",
            id_number_encrypted="",
            id_number_hash=f"http-{stamp}-{n}",
            id_number_masked="210***********0000",
        )
        for n in range(len(pairs))
    )
    petitions = Petition.objects.bulk_create(
        Petition(
            reference=f"H{stamp % 100000:05d}{n:06d}",
            query_code=f"9{stamp % 10000:04d}{n:07d}",
            resident=resident,
            contact_name=resident.name,
            contact_phone=resident.phone,
            category=category,
            summary="小区供暖不热。",
            department_id=department_id,
            community=community,
        )
        for n, (resident, (_slot, department_id)) in enumerate(zip(residents, pairs, strict=True))
    )
    for petition, (slot_id, _department) in zip(petitions, pairs, strict=True):
        jobs.append((petition.reference, slot_id))
    return key, jobs


def _cpu_seconds_by_process(server_pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each process of the app servers, PostgreSQL, Redis and this one (the load
    generator), by process id: a process that ends during a round (a connection closed) drops out of both counts."""
    used: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        pid, parent = int(entry.name), int(fields[1])
        if pid == os.getpid():
            kind = "load generator"
        elif server_pid in (pid, parent):
            kind = "gunicorn"
        elif command.startswith("postgres"):
            kind = "PostgreSQL"
        elif "redis-server" in command:
            kind = "Redis"
        else:
            continue
        used[pid] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    return used


def _cpu_seconds_by_kind(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    used: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        used[kind] = used.get(kind, 0.0) + seconds - before.get(pid, (kind, 0.0))[1]
    return used


def _drive(port: int, key: str, jobs: list[tuple[str, int]], clients: int, server_pid: int) -> dict:
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client() -> None:
        while True:
            try:
                reference, slot_id = work.get_nowait()
            except queue.Empty:
                return
            body = json.dumps({"petition": reference, "slot": slot_id})
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(
                    "POST",
                    "/api/v1/appointments",
                    body,
                    {"Content-Type": "application/json", "X-Kiosk-Key": key, "Idempotency-Key": f"b-{reference}"},
                )
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = 0
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before = _cpu_seconds_by_process(server_pid)
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    cpu = _cpu_seconds_by_kind(cpu_before, _cpu_seconds_by_process(server_pid))
    latencies.sort()
    return {
        "rate": len(latencies) / wall,
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "statuses": statuses,
        # Of one core (the machine has os.cpu_count() of them): where the CPU went while the round ran.
        "cpu": {kind: seconds / wall * 100 for kind, seconds in cpu.items()},
        "cpu_per_booking": sum(cpu.values()) / len(latencies) * 1000,
    }


def _pgbench(seconds: int, clients: int) -> float:
    """Single-row INSERT transactions per second, as pgbench measures them on the same server."""
    if shutil.which("pgbench") is None:
        return float("nan")
    database = "h_perf_pgbench"
    base = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["psql", *base, "-qc", f"DROP DATABASE IF EXISTS {database}"], check=True, capture_output=True)
    subprocess.run(["psql", *base, "-qc", f"CREATE DATABASE {database}"], check=True, capture_output=True)
    try:
        subprocess.run(
            ["psql", *base, "-d", database, "-qc", "CREATE TABLE t (id bigserial PRIMARY KEY, v int)"],
            check=True,
            capture_output=True,
        )
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write("INSERT INTO t (v) VALUES (1);\n")
        out = subprocess.run(
            ["pgbench", *base, "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script.name, database],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        os.unlink(script.name)
        return float(re.search(r"tps = ([0-9.]+)", out).group(1))
    finally:
        subprocess.run(["psql", *base, "-qc", f"DROP DATABASE IF EXISTS {database}"], capture_output=True)


def _integrity() -> tuple[int, int]:
    """Seats held twice and slots holding more than their capacity (both must be 0)."""
    holding = ", ".join(f"'{s}'" for s in SEAT_HOLDING_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT seat_id FROM appointments_appointment WHERE status IN ({holding}) "
            "GROUP BY seat_id HAVING count(*) > 1) twice"
        )
        twice = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM (SELECT s.id FROM scheduler_slot s JOIN appointments_appointment a "
            f"ON a.slot_id = s.id AND a.status IN ({holding}) GROUP BY s.id, s.capacity "
            "HAVING count(*) > s.capacity) over"
        )
        return twice, cursor.fetchone()[0]


def run(*, small: bool) -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("--http measures gunicorn on PostgreSQL: set DATABASE_URL")
    per_round = 150 if small else 2500
    with city.city_database(small=small):
        key, jobs = prepare(per_round * len(CLIENTS))
        name = connection.settings_dict["NAME"]
        connection.close()
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "DJANGO_SETTINGS_MODULE": "scheduler.test_settings",
            "API_THROTTLE_CALLER": "1000000/m",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_ACCESS_LOG": os.devnull,
        }
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "scheduler.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            results = {}
            for n, clients in enumerate(CLIENTS):
                results[clients] = _drive(
                    port, key, jobs[n * per_round : (n + 1) * per_round], clients, server_pid=server.pid
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
        inserts = _pgbench(seconds=5 if small else 15, clients=16)
        twice, over = _integrity()
        counts = city.counts()
    workers = os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1)
    print(
        f"database: postgresql; gunicorn deploy/gunicorn.conf.py, {workers} sync workers; "
        + ", ".join(f"{k}: {v:,}" for k, v in counts.items())
    )
    for clients, r in results.items():
        print(
            f"{clients:3} clients: {r['rate']:.0f} bookings/s, p50 {r['p50'] * 1000:.0f} ms, "
            f"p99 {r['p99'] * 1000:.0f} ms, "
            f"statuses {r['statuses']}, {r['rate'] / inserts * 100:.1f}% of pgbench"
        )
        shares = ", ".join(f"{kind} {share:.0f} %" for kind, share in sorted(r["cpu"].items(), key=lambda kv: -kv[1]))
        print(
            f"     CPU of {os.cpu_count()} cores x 100 %: {shares}; {r['cpu_per_booking']:.1f} ms of CPU per booking "
            "in all"
        )
    print(
        f"pgbench single-INSERT transactions (16 clients): {inserts:.0f}/s; seats held twice: {twice}; "
        f"slots over capacity: {over}"
    )
