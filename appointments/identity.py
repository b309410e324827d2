"""A resident's identity: validating, encrypting, hashing and masking ID and mobile numbers."""

import base64
import hashlib
import hmac
import unicodedata
from functools import lru_cache

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from stdnum.util import isdigits

from scheduler.errors import InvalidInput


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("fernet:" + key).encode()).digest()))


# The first two digits of an ID number: a province-level division (GB/T 2260), or 81/82/83 for the
# residence permits of Hong Kong, Macao and Taiwan residents. The county digits are not checked: they record
# where the number was issued, and codes are renamed and merged over the years while the numbers stay valid.
ID_PROVINCE_PREFIXES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
    + [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]
)
ID_EARLIEST_BIRTH_YEAR = 1900


def id_number_clean(value: str, *, field: str = "id_number") -> str:
    """Validate a resident ID number (GB 11643: length, check character, birth date, province) and normalise it."""
    if not isinstance(value, str):
        raise InvalidInput(_("An ID number has 18 characters: 17 digits and a digit or X."), field=field)
    # Full-width digits from a Chinese input method are the same digits; spaces only group them.
    number = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if len(number) != 18:
        raise InvalidInput(
            _("An ID number has 18 characters; this one has %(count)d.") % {"count": len(number)}, field=field
        )
    if not isdigits(number[:17]) or not (isdigits(number[17]) or number[17] == "X"):
        raise InvalidInput(_("An ID number has 18 characters: 17 digits and a digit or X."), field=field)
    if number[17] != ric.calc_check_digit(number):
        raise InvalidInput(_("The ID number's last character does not match; please check it."), field=field)
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidInput(_("The birth date in this ID number is not a real date."), field=field) from None
    if born > timezone.localdate():
        raise InvalidInput(_("The birth date in this ID number is in the future."), field=field)
    if born.year < ID_EARLIEST_BIRTH_YEAR:
        raise InvalidInput(_("The birth date in this ID number is before 1900."), field=field)
    if int(number[:2]) not in ID_PROVINCE_PREFIXES:
        raise InvalidInput(
            _("This ID number does not begin with the code of a province or region of China."), field=field
        )
    return number


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
