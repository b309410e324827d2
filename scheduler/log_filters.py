"""Keep resident ID numbers and mobile numbers out of every log line, traceback and error report."""

import logging
import re
from collections.abc import Mapping

# A digit as it may reach a log: plain, full-width (typed on a Chinese keyboard), or percent-encoded in a URL.
_D = r"(?:\d|%3\d)"
# What people put between groups of digits: a hyphen or a space, which a URL writes as + or %20.
_SEP = r"(?:[- +]|%20)?"
# Not in the middle of a longer number, nor inside a %3x escape, nor the fraction of a decimal like 0.13812345678.
_START = r"(?<!\d)(?<!%3)(?<!\d\.)"
_END = r"(?!\d|%3\d)"

# 18-character resident ID numbers (6-digit area, 8-digit birth date, 3-digit serial, check digit or X), written
# whole or as 6-8-4. Any 18-digit run is masked, even with an impossible date: a mistyped ID number is still one.
_ID_NUMBER = re.compile(
    _START
    + rf"(?:[1-9１-９]|%3[1-9]){_D}{{5}}{_SEP}{_D}{{8}}{_SEP}{_D}{{3}}(?:\d|%3\d|[XxＸｘ]|%58|%78)"
    + r"(?![\dXxＸｘ]|%3\d|%58|%78)"
)
# Mainland mobile numbers: 1[3-9] and nine more digits, whole or as 3-4-4, with or without +86 / 0086. Eleven digits
# with no digit on either side, so timestamps (10 or 13 digits), ports and 12-digit references stay as they are.
_MOBILE = re.compile(
    _START
    + rf"(?:(?:\+|%2[Bb]|00)?86{_SEP})?(?:[1１]|%31)(?:[3-9３-９]|%3[3-9]){_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}"
    + _END
)


def redact(text: str) -> str:
    """Return text with ID numbers and mobile numbers masked."""
    text = _ID_NUMBER.sub("[id-number]", text)
    return _MOBILE.sub("[phone]", text)


def _redact_arg(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactPersonalData(logging.Filter):
    """Mask ID numbers and mobiles in a record's message, arguments, traceback and stack before any handler writes it.

    The record is changed in place, so every handler after this one (and any formatter) sees only masked text.
    Arguments are masked one by one, so formatters that read them (runserver's request lines) still work; a number
    that only appears once formatted (an object's str, an int) collapses the record to its masked message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(value) for value in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the handler's to report, not ours
            message = None
        if message is not None and redact(message) != message:
            record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
