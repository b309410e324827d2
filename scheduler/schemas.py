import datetime as dt

from ninja import Schema


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    remaining: int


class PublishOut(Schema):
    department: str
    week: str
    status: str
    created: int
    updated: int
    removed: int
    kept_booked: list[int]
    provisional_years: list[int]
