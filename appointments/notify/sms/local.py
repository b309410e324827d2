"""The local SMS backend: messages go to an outbox table that staff read at /staff/sms/outbox/, never to a phone."""

import secrets

from ..models import OutboxMessage
from .base import SentSms


class LocalSmsBackend:
    name = "local"

    def send(self, *, to: str, body: str, status_callback: str | None) -> SentSms:
        # Shaped like a Twilio sid (SM…) so pages and logs read the same, but never mistaken for one.
        sid = "SMlocal" + secrets.token_hex(13)
        OutboxMessage.objects.create(sid=sid, to=to, body=body, status_callback=status_callback or "")
        return SentSms(sid=sid, status="sent")
