"""One resident's whole path over HTTP through 2 gunicorn processes and 2 task workers on PostgreSQL (DEBUG=0)."""

import re
import time

import httpx
import pytest

from tests import factories as f

from .conftest import needs_postgres

pytestmark = [needs_postgres]

OUTCOME = {
    "answer": "经核实，您的回迁房产证材料已齐全，将于下月15日前办结。",
    "legal_basis": "《国有土地上房屋征收与补偿条例》第二十五条",
    "items": [{"request": "办理回迁安置房房产证", "decision": "supported"}],
}


def eventually(check, *, seconds: float = 20.0, every: float = 0.25):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


# The join token is an /api/v1 operation; kept in one place so that a change of its path changes one line.
def join_token(client: httpx.Client, base: str, appointment_id: int, headers: dict) -> httpx.Response:
    return client.post(f"{base}/api/v1/appointments/{appointment_id}/video-token", headers=headers)


def test_a_resident_files_books_is_reminded_joins_and_is_answered_across_two_app_servers(production_stack):
    stack = production_stack
    first, second = stack.urls
    kiosk = {"X-Kiosk-Key": stack.seed["kiosk_key"]}
    officer = {"Authorization": f"Bearer {stack.seed['staff_token']}"}
    resident = {"name": "陈桂英", "phone": "13940027781", "id_number": f.valid_id_number("19570314", 62, "210102")}

    with httpx.Client(timeout=10) as client:
        # Both servers, and the workers behind them, are healthy.
        for base in stack.urls:
            healthy = eventually(lambda base=base: client.get(f"{base}/health/").status_code == 200)
            assert healthy, client.get(f"{base}/health/").text + stack.logs()

        departments = client.get(f"{first}/api/v1/departments", headers=kiosk)
        assert departments.status_code == 200 and stack.seed["department"] in departments.text

        filed = client.post(
            f"{second}/api/v1/petitions",
            json={
                "resident": resident,
                "category": "housing",
                "summary": "回迁房的房产证一直办不下来，已经等了三年。",
                "department": stack.seed["department"],
            },
            headers=kiosk,
        )
        assert filed.status_code == 201, filed.text
        reference = filed.json()["reference"]

        booking = {"petition": reference, "slot": stack.seed["soon_slot"]}
        booked = client.post(f"{first}/api/v1/appointments", json=booking, headers={**kiosk, "Idempotency-Key": "p-1"})
        assert booked.status_code == 201, booked.text
        appointment = booked.json()["id"]
        # The same request retried through the other server is the same booking, not a second one.
        again = client.post(f"{second}/api/v1/appointments", json=booking, headers={**kiosk, "Idempotency-Key": "p-1"})
        assert again.status_code in (200, 201) and again.json()["id"] == appointment, again.text

        # A task worker sends the confirmation SMS; the reminder an hour before is queued for later.
        def messages():
            return dict(
                stack.query(
                    "SELECT kind, state FROM appointments_notification WHERE appointment_id = %s", [appointment]
                )
            )

        assert eventually(lambda: messages().get("booked") in ("sent", "delivered")), messages()
        assert messages().get("reminder_1h") == "pending"

        token = join_token(client, second, appointment, kiosk)
        assert token.status_code == 200, token.text
        assert token.json()["token"] and token.json()["side"]

        answered = client.post(f"{first}/api/v1/petitions/{reference}/outcomes", json=OUTCOME, headers=officer)
        assert answered.status_code == 201, answered.text
        shown = client.get(f"{second}/api/v1/petitions/{reference}", headers=officer)
        assert shown.status_code == 200 and len(shown.json()["outcomes"]) == 1, shown.text

    assert stack.query(
        "SELECT count(*) FROM appointments_appointment WHERE petition_id IN "
        "(SELECT id FROM appointments_petition WHERE reference = %s)",
        [reference],
    ) == [(1,)]
    # The access logs name paths and statuses, never the resident.
    written = stack.logs()
    assert '"POST /api/v1/appointments" 201' in written
    assert resident["id_number"] not in written and resident["phone"] not in written and resident["name"] not in written


@pytest.mark.parametrize(
    ("page", "asset"),
    [("/kiosk/setup/", r"kiosk/kiosk\.[0-9a-f]{12}\.css"), ("/accounts/login/", r"staff/staff\.[0-9a-f]{12}\.css")],
)
def test_pages_link_static_files_by_hashed_name_served_compressed_and_cached_for_good(production_stack, page, asset):
    base = production_stack.urls[0]
    with httpx.Client(timeout=10) as client:
        html = client.get(f"{base}{page}")
        assert html.status_code == 200, html.text
        linked = re.search(rf"/static/{asset}", html.text)
        assert linked, html.text
        served = client.get(f"{base}{linked.group(0)}", headers={"Accept-Encoding": "gzip"})
    assert served.status_code == 200
    assert served.headers["Content-Encoding"] == "gzip"
    assert "immutable" in served.headers["Cache-Control"]
