"""Give a staff member a personal bearer token for the API; it is printed once."""

from django.core.management.base import BaseCommand, CommandError

from departments.models import StaffMember
from departments.services import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token: api_token create --user USERNAME --name 'what it is for'"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="integration")

    def handle(self, *args, action, user, name, **options):
        staff = StaffMember.objects.filter(user__username=user, user__is_active=True).first()
        if staff is None:
            raise CommandError(f"No active staff member with username {user!r}.")
        _record, token = api_token_create(staff=staff, name=name)
        self.stdout.write(f"Token for {user} (shown only now; send it as 'Authorization: Bearer <token>'):")
        self.stdout.write(token)
