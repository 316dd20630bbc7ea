"""Email about a newly opened alert to the members the tenant's rule names."""

import logging
import zoneinfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from chargers.alerts.models import Alert, AlertRule

log = logging.getLogger(__name__)


def queue_notification(alert: Alert) -> None:
    def queue():
        from chargers.alerts.tasks import send_notification

        try:
            send_notification.delay(tenant_id=alert.tenant_id, alert_id=alert.pk)
        except Exception:
            log.warning("could not queue the email about alert %s", alert.pk, exc_info=True)

    transaction.on_commit(queue)


def recipients(alert: Alert) -> list[str]:
    rule = AlertRule.objects.filter(kind=alert.kind).first()
    if rule is None or not rule.enabled:
        return []
    # Only members who accepted: an invitation not yet answered hears nothing of the tenant.
    members = rule.notify.filter(accepted_at__isnull=False).select_related("user")
    return sorted(m.user.email for m in members if m.user.is_active)


def send(*, alert_id: int) -> int:
    alert = Alert.objects.select_related("tenant").filter(pk=alert_id).first()
    if alert is None:
        return 0
    to = recipients(alert)
    if not to:
        return 0
    link = settings.SITE_URL.rstrip("/") + reverse(
        "alert_detail", kwargs={"tenant_slug": alert.tenant.slug, "pk": alert.pk}
    )
    subject = f"[{alert.tenant.name}] {alert.get_severity_display()}: {alert.title}"
    opened = timezone.localtime(alert.opened_at, zoneinfo.ZoneInfo(alert.tenant.timezone))
    body = (
        f"{alert.title}\n\n{alert.detail}\n\nOpened {opened:%Y-%m-%d %H:%M %Z}.\n"
        f"Acknowledge it here: {link}\n"
    )
    return send_mail(subject, body, None, to)
