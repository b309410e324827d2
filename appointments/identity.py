"""A resident's identity: validating, encrypting, hashing and masking ID and mobile numbers."""

import base64
import hashlib
import hmac
from functools import lru_cache

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from scheduler.errors import InvalidInput


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("fernet:" + key).encode()).digest()))


def id_number_clean(value: str, *, field: str = "id_number") -> str:
    """Validate a resident ID number (GB 11643: length, birth date, check character) and normalise it."""
    try:
        return ric.validate(value or "")
    except InvalidChecksum:
        raise InvalidInput(_("The ID number's last character does not match; please check it."), field=field) from None
    except InvalidComponent:
        raise InvalidInput(_("The birth date in this ID number is not a real date."), field=field) from None
    except (InvalidLength, InvalidFormat):
        raise InvalidInput(_("An ID number has 18 characters: 17 digits and a digit or X."), field=field) from None
    except ValidationError:
        raise InvalidInput(_("This ID number is not valid."), field=field) from None


def phone_clean(value: str, *, field: str = "phone") -> str:
    """Validate a mobile number (mainland China unless it starts with +) and return it in E.164."""
    try:
        number = phonenumbers.parse(value or "", "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput(_("Please enter an 11-digit mobile number."), field=field) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput(_("Please enter an 11-digit mobile number."), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def lookup_hash(value: str) -> str:
    """A keyed hash used to find a resident by ID number without storing it in the clear."""
    return hmac.new(settings.FIELD_ENCRYPTION_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def id_number_mask(value: str) -> str:
    """Show only the first 3 and last 4 characters: 210***********123X."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def phone_mask(e164: str) -> str:
    """Show a mobile as 138****5678."""
    digits = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def phone_last4(e164: str) -> str:
    return e164[-4:]
