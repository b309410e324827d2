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


# Encryption and keyed hashes ----------------------------------------------------------------------------------
#
# Personal fields are encrypted with Fernet under the current key (settings.FIELD_ENCRYPTION_KEY); ciphertext written
# under an earlier key still decrypts while that key is listed in settings.FIELD_ENCRYPTION_OLD_KEYS, until
# `manage.py rotate_field_key` has re-encrypted everything. Lookups use HMAC-SHA256 under a key derived from each
# field key, one purpose per value kind, so that an ID number's hash never equals a mobile's.


class UndecryptableValue(Exception):
    """A stored value that none of the configured keys decrypts (a key is missing from the settings)."""


def field_keys() -> list[str]:
    """The field keys, the current one first, then the older ones still accepted for reading."""
    current = settings.FIELD_ENCRYPTION_KEY
    older = [key for key in getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", ()) if key and key != current]
    return [current, *older]


@lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("fernet:" + key).encode()).digest()))


@lru_cache(maxsize=8)
def _hmac_base(key: str) -> "hmac.HMAC":
    # Keyed once per key; each digest copies it (the key schedule is the costly part of a short HMAC).
    return hmac.new(hashlib.sha256(("lookup:" + key).encode()).digest(), digestmod=hashlib.sha256)


def encrypt(value: str) -> str:
    """Encrypt under the current key."""
    return _fernet(field_keys()[0]).encrypt(value.encode()).decode()


def decrypt_strict(token: str) -> str:
    """Decrypt under whichever configured key wrote the token; raise UndecryptableValue if none did."""
    for key in field_keys():
        try:
            return _fernet(key).decrypt(token.encode()).decode()
        except InvalidToken:
            continue
    raise UndecryptableValue("A stored value could not be decrypted with any configured field key.")


def decrypt(token: str) -> str:
    """Decrypt a token, or give an empty string for one no configured key decrypts."""
    try:
        return decrypt_strict(token)
    except UndecryptableValue:
        return ""


def is_current(token: str) -> bool:
    """Whether a token was written under the current key (rotation leaves it as it is)."""
    try:
        _fernet(field_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _digest(purpose: str, value: str, key: str) -> str:
    digest = _hmac_base(key).copy()
    digest.update(f"{purpose}:{value}".encode())
    return digest.hexdigest()


def lookup_hash(value: str) -> str:
    """A keyed hash used to find a resident by ID number without storing it in the clear."""
    return _digest("id", value, field_keys()[0])


def lookup_hashes(value: str) -> list[str]:
    """The ID number's keyed hash under every configured key: a row not yet rotated is still found."""
    return [_digest("id", value, key) for key in field_keys()]


def phone_hash(e164: str) -> str:
    """A keyed hash of a mobile in E.164, to find who gave it; empty for no mobile."""
    return _digest("phone", e164, field_keys()[0]) if e164 else ""


def phone_hashes(e164: str) -> list[str]:
    return [_digest("phone", e164, key) for key in field_keys()]


# A name's tags cover each part of two or more characters of names up to this length (Chinese names, minority
# names such as 阿依古丽·买买提, short Latin names), so that staff find "王秀兰" by "秀兰"; a longer name is tagged
# whole and by its words only. Tags are truncated keyed hashes: equal parts give equal tags, nothing more.
NAME_PARTS_UP_TO = 10
_NAME_TAG_LENGTH = 16


def name_key(value: str) -> str:
    """A name as compared for lookups: full-width folded, spaces and middle dots dropped, case ignored."""
    folded = unicodedata.normalize("NFKC", value or "").casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "·•・‧∙.．")


def _name_parts(value: str) -> set[str]:
    key = name_key(value)
    if not key:
        return set()
    if len(key) <= NAME_PARTS_UP_TO:
        return {key[i:j] for i in range(len(key)) for j in range(i + 2, len(key) + 1)} | {key}
    words = unicodedata.normalize("NFKC", value).casefold().replace("·", " ").replace(".", " ").split()
    return {key} | {name_key(word) for word in words if len(name_key(word)) >= 2}


def _name_tag(part: str, key: str) -> str:
    return _digest("name", part, key)[:_NAME_TAG_LENGTH]


def name_tags(value: str) -> str:
    """Keyed tags of a name and its parts, space-separated with a space at each end ("" for no name)."""
    key = field_keys()[0]
    tags = sorted({_name_tag(part, key) for part in _name_parts(value)})
    return f" {' '.join(tags)} " if tags else ""


def name_search_tags(text: str) -> list[str]:
    """What to look for in stored name tags to find names containing this text, under every configured key."""
    part = name_key(text)
    if len(part) < 2:
        # A single character (a surname) is not tagged: it would tell apart the rows that share it.
        return []
    return [f" {_name_tag(part, key)} " for key in field_keys()]


def name_mask(value: str) -> str:
    """Show only the first character of a name: 王**."""
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


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
