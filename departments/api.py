from ninja import Router

from .models import Department
from .schemas import DepartmentOut

router = Router(tags=["departments"])


@router.get("/departments", response=list[DepartmentOut], summary="List the departments residents can book")
def department_list(request):
    return Department.objects.filter(is_active=True).order_by("kind", "code")
