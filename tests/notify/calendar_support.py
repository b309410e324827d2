"""Helpers for the calendar tests: read .ics bytes back with independent parsers, and search them for personal data."""

import datetime as dt
import re

import icalendar
import recurring_ical_events

from tests import factories as f

# Residents as varied as the district's: compound and two-character names, a name with a middle dot, ID numbers
# issued in many provinces (one ending in X, one from before 1983 in 大东区), mainland and Hong Kong mobiles.
RESIDENTS = [
    {"name": "王秀兰", "phone": "13904051234", "id_number": f.id_number_for("210104", "19470315", 201)},
    {"name": "欧阳娜娜", "phone": "15840012345", "id_number": f.valid_id_number(area="440106", birth="19800229")},
    {"name": "李强", "phone": "18624000001", "id_number": f.valid_id_number(area="650102", birth="19991231")},
    {"name": "阿依古丽·买买提", "phone": "+85291234567", "id_number": f.valid_id_number(area="810000")},
    {"name": "张建国", "phone": "13712398765", "id_number": f.valid_id_number(area="830000", birth="19350101")},
    {"name": "赵丽", "phone": "19912345678", "id_number": f.valid_id_number(area="210105", birth="19820704")},
]


def unfolded(body: bytes) -> str:
    """The text of a calendar with folded lines joined again (a number may be split across a fold)."""
    return body.decode().replace("\r\n ", "").replace("\r\n\t", "")


def personal_data_in(body: bytes, people: list[dict]) -> list[str]:
    """Name every ID number, full mobile or full name of these people that can be read in a calendar."""
    text = unfolded(body)
    # Escaped or grouped, a number is still the number: "139 0405 1234", "139-0405-1234", "210104\,1947…".
    digits = re.sub(r"(?<=[0-9])[\s\-–.\\,;]+(?=[0-9Xx])", "", text)
    found = []
    for person in people:
        if person["id_number"][:17] in digits:
            found.append(f"ID number of {person['name']}")
        if person["phone"].lstrip("+") in digits or person["phone"][-8:] in digits:
            found.append(f"mobile of {person['name']}")
        if person["name"] in text:
            found.append(f"name of {person['name']}")
    return found


def parsed(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def occurrences(body: bytes, first: dt.date, last: dt.date) -> list:
    """Every occurrence between two days (inclusive), as recurring-ical-events expands the calendar."""
    return list(recurring_ical_events.of(parsed(body)).between(first, last + dt.timedelta(days=1)))
