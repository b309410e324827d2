"""Resident ID numbers and mobile numbers never reach a log line."""

import logging

import pytest

from scheduler.log_filters import RedactPersonalData, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id 210100194703150025 failed", "id [id-number] failed"),
        ("id 21010019520808001X failed", "id [id-number] failed"),
        ("call 13840012345 now", "call [phone] now"),
        ("call +8613840012345 now", "call [phone] now"),
        ("call +86 138 nothing", "call +86 138 nothing"),
        ("appointment 12345 at slot 678", "appointment 12345 at slot 678"),
    ],
)
def test_it_masks_id_and_mobile_numbers(text, expected):
    assert redact(text) == expected


def test_the_filter_rewrites_a_record_with_arguments():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "resident %s phone %s", ("210100194703150025", "13840012345"), None
    )

    assert RedactPersonalData().filter(record) is True
    assert record.getMessage() == "resident [id-number] phone [phone]"
