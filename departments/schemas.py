from ninja import Schema


class DepartmentOut(Schema):
    code: str
    name: str
    kind: str
    description: str
