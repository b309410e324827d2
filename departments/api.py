from ninja import Router

from .models import Department
from .schemas import DepartmentOut

router = Router(tags=["departments"])


@router.get(
    "/departments",
    response=list[DepartmentOut],
    operation_id="department_list",
    summary="List the departments residents can book",
    description="Every active department, functional departments first. Public: no key or token needed.",
)
def department_list(request):
    return Department.objects.filter(is_active=True).order_by("kind", "code")
