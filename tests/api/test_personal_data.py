"""No API answer ever carries a full resident ID number or mobile number: after a success, a refusal or an error,
only the masked forms (210***********002X, 138****2345) may appear."""

import json
import unicodedata

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db

PHONE = "13840012345"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


class Recorder:
    """Django's test client, keeping every answer it gets."""

    def __init__(self, client, **headers):
        self.client, self.headers, self.responses = client, headers, []

    def get(self, url, **headers):
        response = self.client.get(url, headers={**self.headers, **headers})
        self.responses.append(response)
        return response

    def post(self, url, data=None, **headers):
        body = data if isinstance(data, str) else json.dumps(data if data is not None else {}, ensure_ascii=False)
        response = self.client.post(url, body, content_type="application/json", headers={**self.headers, **headers})
        self.responses.append(response)
        return response

    def leaks(self, *secrets: str) -> list[tuple[int, str]]:
        found = []
        for response in self.responses:
            texts = [response.content.decode(errors="replace"), *(str(v) for v in response.headers.values())]
            if response.get("Content-Type", "").startswith("application/json"):
                texts.append(unicodedata.normalize("NFKC", json.dumps(response.json(), ensure_ascii=False)))
            for secret in secrets:
                if any(secret in text for text in texts):
                    found.append((response.status_code, secret))
        return found


def resident(id_number: str, **changes) -> dict:
    return {"name": "王秀兰", "phone": PHONE, "id_number": id_number} | changes


def petition_body(id_number: str, department: str = "fangchan", **changes) -> dict:
    return {
        "resident": resident(id_number, **changes),
        "category": "housing",
        "summary": "回迁房的房产证一直办不下来。",
        "department": department,
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_answer_ever_carries_a_full_id_or_mobile_number(
    client, kiosk_key, published, open_slots, dept_admin, language
):
    id_number = f.valid_id_number()
    wrong_check = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    api = Recorder(client, **{"X-Kiosk-Key": kiosk_key, "Accept-Language": language})

    # Successes: the answer shows the resident masked.
    created = api.post("/api/v1/petitions", petition_body(id_number))
    assert created.status_code == 201, created.content
    masked = created.json()["resident"]
    assert masked["id_number"] == id_number[:3] + "*" * 11 + id_number[-4:]
    assert masked["phone"] == "138****2345"
    api.post("/api/v1/petitions", petition_body(full_width(id_number), phone=full_width(PHONE)))
    api.post("/api/v1/petitions", petition_body(id_number, name=PHONE))
    api.post("/api/v1/petitions", petition_body(id_number, name="王秀"))  # another name for the same ID number

    # Refusals, each quoting as much of the input as it can.
    api.post("/api/v1/petitions", petition_body(wrong_check))
    api.post("/api/v1/petitions", petition_body(id_number, phone=id_number))
    api.post("/api/v1/petitions", petition_body(PHONE, phone="+86" + PHONE))
    api.post("/api/v1/petitions", petition_body(int(id_number[:17] + "0")))
    api.post("/api/v1/petitions", petition_body(id_number, "nosuch" + id_number))
    api.post("/api/v1/petitions", petition_body(id_number, department=PHONE))
    api.post("/api/v1/petitions", {**petition_body(id_number), "category": id_number})
    api.post("/api/v1/petitions", {**petition_body(id_number), "summary": id_number[:3]})
    api.post("/api/v1/petitions", '{"resident": {"id_number": "' + id_number + '", ')
    api.post("/api/v1/petitions", petition_body(id_number) | {"summary": PHONE * 300_000})
    api.post("/api/v1/petitions", petition_body(id_number), **{"X-Kiosk-Key": "kiosk_" + id_number})
    api.post("/api/v1/appointments", {"petition": id_number, "slot": open_slots[0].pk})
    api.post("/api/v1/appointments", {"petition": PHONE, "slot": open_slots[0].pk})
    api.post("/api/v1/appointments", {"petition": "+86" + PHONE, "slot": id_number})
    api.get(f"/api/v1/departments/{id_number}/slots")
    api.get(f"/api/v1/departments/{PHONE}/slots", **{"X-Kiosk-Key": ""})
    api.get(f"/api/v1/appointments/{id_number}")
    api.get(f"/api/v1/appointments/{PHONE}")

    # A booking, retried with an ID number as its key, cancelled with a mobile number in the reason.
    reference = created.json()["reference"]
    booked = api.post(
        "/api/v1/appointments", {"petition": reference, "slot": open_slots[0].pk}, **{"Idempotency-Key": id_number}
    )
    assert booked.status_code == 201, booked.content
    api.post(
        "/api/v1/appointments", {"petition": reference, "slot": open_slots[0].pk}, **{"Idempotency-Key": id_number}
    )
    api.post(
        "/api/v1/appointments", {"petition": reference, "slot": open_slots[1].pk}, **{"Idempotency-Key": id_number}
    )
    appointment = booked.json()["id"]
    cancelled = api.post(f"/api/v1/appointments/{appointment}/cancel", {"reason": f"有事，请打 {PHONE} 联系我"})
    assert cancelled.json()["cancel_reason"] == "有事，请打 138****2345 联系我"
    api.get(f"/api/v1/appointments/{appointment}")
    api.post(f"/api/v1/appointments/{appointment}/reschedule", {"slot": open_slots[1].pk})
    token = f.token_for(dept_admin.staff)
    api.post(
        f"/api/v1/slots/{open_slots[2].pk}/withdraw", {"reason": f"停电，咨询 {PHONE}"}, Authorization=f"Bearer {token}"
    )

    assert len(api.responses) > 25
    assert {r.status_code for r in api.responses} >= {200, 201, 400, 401, 404, 409, 413, 422}
    secrets = [id_number, wrong_check, full_width(id_number), PHONE, "+86" + PHONE, full_width(PHONE)]
    assert api.leaks(*secrets) == []
