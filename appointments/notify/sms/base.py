"""The small interface every SMS provider implements, and how the configured one is chosen."""

from dataclasses import dataclass
from typing import Protocol

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string


class SmsProviderError(Exception):
    """A send failed. `permanent` (an invalid or blocked number) means retrying cannot help.

    `maybe_sent` says the request may have reached the provider before the failure (a timeout after sending),
    so the message must be treated as unknown, never silently sent again.
    """

    def __init__(self, message: str, *, permanent: bool = False, code: str = "", maybe_sent: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class SentSms:
    sid: str
    status: str = "queued"


class SmsProvider(Protocol):
    # "twilio" or "local": stored on each notification with its sid.
    name: str

    def send(self, *, to: str, body: str, status_callback: str | None) -> SentSms:
        """Hand one message to the provider; `to` is an E.164 number (+86…)."""
        ...


def sms_provider() -> SmsProvider:
    """Return the provider named by settings.SMS_BACKEND (a dotted path, like EMAIL_BACKEND)."""
    return import_string(settings.SMS_BACKEND)()


def phone_e164(phone: str) -> str:
    """Write a resident's mobile (11 digits, or already +86…) as the E.164 number providers take."""
    try:
        number = phonenumbers.parse(phone or "", "CN")
    except phonenumbers.NumberParseException as error:
        raise SmsProviderError("Not a phone number.", permanent=True, code="invalid_number") from error
    if not phonenumbers.is_valid_number(number):
        raise SmsProviderError("Not a valid phone number.", permanent=True, code="invalid_number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
