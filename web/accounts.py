"""Demo accounts: one per role, for ``make run`` only (refused outside demo settings)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q

from gis.models import Community, Role, ScopeGrant
from web.checks import DEMO_USERNAME_PREFIX

DEMO_PASSWORD = "plategrid-demo"  # noqa: S105 - printed to the console, demo settings only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    territory_code: str
    is_staff: bool
    #: Extra permissions ("app_label.codename") beyond the role's.
    permissions: tuple[str, ...] = ()


#: The district administrator may reveal identity numbers and phones (with a reason, logged) and
#: sees the people register in the admin; the auditor reads the access log (/audit/).
REVEAL = "registry.reveal_resident"
AUDIT = "registry.audit"


def demo_accounts() -> list[DemoAccount]:
    """One account per role, scoped to the first district, street office and community."""
    community = Community.objects.select_related("street_office").order_by("code").first()
    if community is None:
        return []
    office = community.street_office
    return [
        DemoAccount(
            f"{DEMO_USERNAME_PREFIX}district",
            Role.DISTRICT_ADMIN,
            office.district_id,
            True,
            (REVEAL,),
        ),
        DemoAccount(f"{DEMO_USERNAME_PREFIX}street", Role.STREET_SUPERVISOR, office.code, False),
        DemoAccount(f"{DEMO_USERNAME_PREFIX}worker", Role.COMMUNITY_WORKER, community.code, False),
        DemoAccount(f"{DEMO_USERNAME_PREFIX}readonly", Role.READ_ONLY, office.district_id, False),
        DemoAccount(
            f"{DEMO_USERNAME_PREFIX}auditor", Role.READ_ONLY, office.district_id, False, (AUDIT,)
        ),
    ]


@transaction.atomic
def create_demo_accounts() -> list[DemoAccount]:
    if not settings.DEMO_MODE:
        raise ImproperlyConfigured(
            "演示账号只能在演示设置下创建 / demo accounts exist only with demo settings (DEMO_MODE)."
        )
    User = get_user_model()
    accounts = demo_accounts()
    for account in accounts:
        user, _created = User.objects.get_or_create(username=account.username)
        user.is_staff = account.is_staff
        user.set_password(DEMO_PASSWORD)
        user.save()
        granted = [
            p
            for p in Permission.objects.filter(content_type__app_label="registry")
            if f"registry.{p.codename}" in account.permissions
        ]
        if account.is_staff:  # the register in the admin, scoped like the API
            granted += (
                Permission.objects.filter(content_type__app_label="geo")
                .exclude(content_type__model__endswith="event")
                .exclude(content_type__model="scopegrant")
            )
            # The people register: personal records to view (read-only there), its data to edit.
            granted += Permission.objects.filter(
                Q(codename__startswith="view_")
                | Q(content_type__model__in=["followupschedule", "starcriterion"]),
                content_type__app_label="registry",
            ).exclude(content_type__model__endswith="event")
        user.user_permissions.set(granted)
        ScopeGrant.objects.filter(user=user).delete()
        ScopeGrant.objects.create(
            user=user, role=account.role, territory_code=account.territory_code
        )
    return accounts
