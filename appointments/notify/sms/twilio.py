"""Twilio Messaging: each SMS sent with the real twilio client, from a number or a messaging service."""

import re

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from .base import SentSms, SmsProviderError

TWILIO_API = "https://api.twilio.com"
# Twilio's refusals put the number in their text ("The 'To' number +86138… is not valid"): never keep it.
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def _scrub(text: str) -> str:
    return _NUMBER.sub("[number]", text or "")[:300]


class TwilioApiHttpClient(TwilioHttpClient):
    """The twilio HTTP client, sending to settings.TWILIO_API_BASE_URL instead of api.twilio.com when it is set."""

    def __init__(self, *, base_url: str = "", timeout: float = 10):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def _never_left(error: requests.RequestException) -> bool:
    """Whether a network failure happened before the request could reach Twilio (so sending again is safe).

    A refused or unresolvable connection, or a TLS handshake that failed, sent nothing. A read timeout or a
    connection dropped while waiting for the answer may come after Twilio took the message.
    """
    if isinstance(error, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return True
    if isinstance(error, requests.exceptions.ConnectionError) and error.args:
        cause = error.args[0]
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        return isinstance(cause, (NewConnectionError, ConnectTimeoutError))
    return False


def _refusal(error: TwilioRestException | TwilioServiceException) -> SmsProviderError:
    """Twilio answered with an error: a 4xx (an invalid or blocked number) will not change by sending again."""
    status = int(error.status or 0)
    code = str(error.code) if error.code else f"http_{status}"
    text = error.msg if isinstance(error, TwilioRestException) else (error.detail or error.title)
    # Too many requests, or Twilio's own trouble: the message was not taken, and may be sent later.
    retryable = status == 429 or status >= 500
    return SmsProviderError(f"Twilio refused the message ({code}): {_scrub(text)}", permanent=not retryable, code=code)


class TwilioSmsBackend:
    name = "twilio"

    def __init__(self, *, http_client: TwilioHttpClient | None = None):
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.api_key_sid = getattr(settings, "TWILIO_API_KEY_SID", "")
        self.api_key_secret = getattr(settings, "TWILIO_API_KEY_SECRET", "")
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.sender = settings.TWILIO_SMS_FROM
        self.messaging_service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
        has_key = bool(self.api_key_sid and self.api_key_secret)
        if not (self.account_sid and (has_key or self.auth_token) and (self.sender or self.messaging_service_sid)):
            raise SmsProviderError(
                "Twilio SMS needs TWILIO_ACCOUNT_SID, an API key or TWILIO_AUTH_TOKEN, and TWILIO_SMS_FROM or "
                "TWILIO_MESSAGING_SERVICE_SID.",
                permanent=True,
                code="not_configured",
            )
        self.http_client = http_client or self.http_client_default()

    def http_client_default(self) -> TwilioHttpClient:
        return TwilioApiHttpClient(base_url=settings.TWILIO_API_BASE_URL, timeout=10)

    def client(self) -> Client:
        # An API key when there is one (it can be revoked alone); else the account's own sid and auth token.
        if self.api_key_sid and self.api_key_secret:
            return Client(self.api_key_sid, self.api_key_secret, self.account_sid, http_client=self.http_client)
        return Client(self.account_sid, self.auth_token, http_client=self.http_client)

    def send(self, *, to: str, body: str, status_callback: str | None) -> SentSms:
        options: dict[str, str] = {"to": to, "body": body}
        # A messaging service picks the sender from its pool and keeps the opt-out list; else the one number.
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        else:
            options["from_"] = self.sender
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = self.client().messages.create(**options)
        except (TwilioRestException, TwilioServiceException) as error:
            raise _refusal(error) from error
        except requests.RequestException as error:
            raise SmsProviderError(
                f"Twilio could not be reached: {type(error).__name__}", maybe_sent=not _never_left(error)
            ) from error
        except (TwilioException, ValueError, TypeError, AttributeError, KeyError) as error:
            # The client failed on Twilio's answer (not JSON, not a message): the message may have been taken.
            raise SmsProviderError(
                f"Twilio's answer was not understood: {type(error).__name__}", maybe_sent=True
            ) from error
        if not message.sid:
            raise SmsProviderError("Twilio took the message without naming it.", maybe_sent=True)
        return SentSms(sid=message.sid, status=message.status or "queued")
