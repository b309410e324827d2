"""What became of each SMS: the delivery statuses Twilio reports, and the failed ones a community worker follows up."""

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from departments.audit import audit_record
from departments.services import Actor
from scheduler.errors import Conflict, NotFound

from .. import policy
from ..models import Notification, NotificationStatus

State = Notification.State

# How far along a message is by Twilio's word, so that a status arriving late never moves it back.
# A failure is final: nothing Twilio says after it changes what the resident got.
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
}
FAILURE_STATUSES = ("undelivered", "failed", "canceled")
DELIVERED_STATUSES = ("delivered", "read")
# The states from which a message may still move on by what Twilio reports.
_OPEN_STATES = (State.SENDING, State.SENT, State.UNKNOWN)
# Twilio's message sids (SM… for SMS, MM… for MMS): 34 characters.
_TWILIO_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")

# What went wrong, grouped by what a community worker can do about it. Codes are Twilio's error codes
# (https://www.twilio.com/docs/api/errors) and our own ("invalid_number" from checking the mobile before sending).
INVALID_NUMBER = {"invalid_number", "21211", "21217", "21401", "21614", "30006"}
NO_SUCH_NUMBER = {"30005"}
BLOCKED = {"21610", "21612", "30004", "30007"}
UNREACHABLE = {"30003"}
# The site's own settings (credentials, sender, region): the number is not to blame.
SETTINGS = {
    "not_configured",
    "20003",
    "20404",
    "21408",
    "21606",
    "21608",
    "21703",
    "21704",
    "30032",
    "http_401",
    "http_403",
}
# Faults of this system (a message that could not be written) and a service that stayed out of reach.
SYSTEM = {"render_error"}
GAVE_UP = {"gave_up"}
# Kept on the row in plain English (no personal data); pages say it in the reader's language.
ERROR_TEXT = {
    "21211": "Invalid 'To' phone number",
    "21610": "Recipient has unsubscribed",
    "21612": "Number not reachable by SMS",
    "21614": "Not a mobile number",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
}


def sms_status_callback_url() -> str:
    """Where Twilio reports each message's delivery: the public address of /webhooks/twilio/sms."""
    return settings.PUBLIC_BASE_URL + reverse("sms-webhook")


def _error_code(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return text if text.isascii() and text.isdigit() and len(text) <= 10 else ""


@transaction.atomic(durable=True)
def sms_status_record(*, params: dict) -> str:
    """Store a status Twilio reported for a message once, and move the message on (never back).

    Answers what was done ("recorded", "repeated", "ignored") for whoever reads the provider's debugger.
    """
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not (isinstance(sid, str) and _TWILIO_SID.fullmatch(sid) and isinstance(status, str) and status in STATUS_RANK):
        return "ignored"
    error_code = _error_code(params.get("ErrorCode"))
    # The row lock makes callbacks for one message (Twilio sends several at once) take their turns.
    notification = Notification.objects.select_for_update().filter(provider="twilio", provider_sid=sid).first()
    if notification is None:
        return "ignored"
    if NotificationStatus.objects.filter(notification=notification, status=status).exists():
        return "repeated"
    try:
        with transaction.atomic():
            NotificationStatus.objects.create(notification=notification, status=status, error_code=error_code)
    except IntegrityError:
        return "repeated"
    _advance(notification, status=status, error_code=error_code)
    return "recorded"


def _advance(notification: Notification, *, status: str, error_code: str) -> None:
    fields: list[str] = []
    final_failure = status in FAILURE_STATUSES
    if STATUS_RANK[status] > STATUS_RANK.get(notification.provider_status, 0) and not (
        final_failure and notification.state == State.DELIVERED
    ):
        notification.provider_status = status
        fields.append("provider_status")
    if notification.state in _OPEN_STATES:
        if final_failure:
            # Not delivered, whatever the reason: never sent again by itself; the community worker calls instead.
            notification.state = State.FAILED
            notification.error_code = error_code
            notification.error_message = ERROR_TEXT.get(error_code, f"Not delivered ({status})")[:300]
            fields += ["state", "error_code", "error_message"]
        elif status in DELIVERED_STATUSES:
            notification.state = State.DELIVERED
            fields.append("state")
        elif status == "sent" and notification.state != State.SENT:
            notification.state = State.SENT
            fields.append("state")
    if fields:
        notification.save(update_fields=fields)
    if final_failure and "state" in fields:
        audit_record(
            actor=None,
            action="sms.failed",
            target=notification,
            detail={"kind": notification.kind, "status": status, "error_code": error_code},
        )


def sms_local_status_record(*, sid: str, status: str) -> str:
    """Record a status for a message of the local outbox, as Twilio's callback would (demo and tests)."""
    notification = Notification.objects.filter(provider="local", provider_sid=sid).only("pk").first()
    if notification is None or not isinstance(status, str) or status not in STATUS_RANK:
        return "ignored"
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        _, created = NotificationStatus.objects.get_or_create(notification=locked, status=status)
        if not created:
            return "repeated"
        _advance(locked, status=status, error_code="")
    return "recorded"


def notification_problem_text(notification: Notification) -> str | Promise:
    """What went wrong with a message, in words a community worker can act on."""
    if notification.state == State.UNKNOWN:
        return _("The system stopped while sending: the message may or may not have reached the resident.")
    code = notification.error_code
    if code in INVALID_NUMBER:
        return _("The mobile number cannot receive SMS: it is not a valid mobile number.")
    if code in NO_SUCH_NUMBER:
        return _("The mobile number does not exist or is no longer in use.")
    if code in BLOCKED:
        return _("The resident's phone or carrier blocks these messages (the resident may have unsubscribed).")
    if code in UNREACHABLE:
        return _("The resident's phone was switched off or out of reach.")
    if code in SETTINGS:
        return _("The SMS service refused this site's settings; please tell the system administrator.")
    if code in SYSTEM:
        return _("This system could not write the message; please tell the system administrator.")
    if code in GAVE_UP:
        return _("The SMS service could not be reached, even after several tries.")
    if code:
        return _("The SMS service could not deliver the message (error %(code)s).") % {"code": code}
    return _("The SMS service could not deliver the message.")


def _may_handle(actor: Actor, notification: Notification) -> bool:
    return policy.can_handle_notification(actor, notification.petition.community_id)


@transaction.atomic(durable=True)
def notification_mark_handled(*, actor: Actor, notification_id: int) -> Notification:
    """Note that a community worker dealt with a failed or unknown message (by phone); done twice, it stays done."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("petition")
        .filter(pk=notification_id)
        .first()
    )
    # Missing and not yours read the same, so that nothing is learnt by guessing numbers.
    if notification is None or not _may_handle(actor, notification):
        raise NotFound(_("There is no such message to follow up."), field="notification")
    if notification.state not in (State.FAILED, State.UNKNOWN):
        raise Conflict(_("This message did not fail, so there is nothing to follow up."), field="notification")
    if notification.handled_at is not None:
        return notification
    notification.handled_at = timezone.now()
    notification.handled_by = actor.staff
    notification.save(update_fields=["handled_at", "handled_by"])
    audit_record(
        actor=actor,
        action="sms.handled",
        target=notification,
        detail={"kind": notification.kind, "state": notification.state, "error_code": notification.error_code},
    )
    return notification
