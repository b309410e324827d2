from enum import StrEnum

from ninja import Schema


class DepartmentKind(StrEnum):
    FUNCTIONAL = "functional"
    PETITION_OFFICE = "petition_office"


class DepartmentOut(Schema):
    code: str
    name: str
    kind: DepartmentKind
    description: str
