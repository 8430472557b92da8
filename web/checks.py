"""Start-up refusals for production: no demo accounts may exist."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEMO_USERNAME_PREFIX = "demo-"


def refuse_unsafe_production() -> None:
    """Raise when a production server would start with demo accounts in its database."""
    if settings.DEMO_MODE or settings.DEBUG:
        return
    from django.contrib.auth import get_user_model

    demo = get_user_model().objects.filter(
        username__startswith=DEMO_USERNAME_PREFIX, is_active=True
    )
    if demo.exists():
        raise ImproperlyConfigured(
            "生产环境中存在演示账号，拒绝启动 / production refuses to start while demo accounts "
            f"exist: deactivate or delete {', '.join(demo.values_list('username', flat=True))}."
        )
