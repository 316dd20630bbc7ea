from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cpms.models import ApiKeyRole
from cpms.services import apikeys


class Command(BaseCommand):
    help = (
        "Create a platform staff API key. It has a role but no tenant: every request names "
        "the tenant's slug in the X-Tenant header. The key is printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the key is for, e.g. 'Support tooling'.")
        parser.add_argument("--role", choices=list(ApiKeyRole.values), required=True)
        parser.add_argument(
            "--created-by", required=True, help="Email of the superuser the key belongs to."
        )
        parser.add_argument("--expires-at", help="ISO 8601 moment with an offset; omit for none.")

    def handle(self, *args, name, role, created_by, expires_at, **opts):
        user = get_user_model().objects.filter(email=created_by.strip().lower()).first()
        if user is None or not user.is_superuser:
            raise CommandError(f"--created-by: {created_by} is not a platform superuser.")
        when = None
        if expires_at:
            when = parse_datetime(expires_at)
            if when is None or when.tzinfo is None:
                raise CommandError(
                    "--expires-at: use ISO 8601 with an offset, e.g. 2027-01-01T00:00Z."
                )
            if when <= timezone.now():
                raise CommandError("--expires-at: choose a moment in the future.")
        try:
            new = apikeys.platform_api_key_create(
                name=name, role=role, created_by=user, expires_at=when
            )
        except ValueError as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created platform API key {new.key.prefix} ({role}).")
        )
        self.stdout.write(f"  key (shown once): {new.secret}")
        self.stdout.write(
            "  send it as 'Authorization: Bearer <key>' with 'X-Tenant: <tenant slug>'"
        )
