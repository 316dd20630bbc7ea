"""Email about a newly opened alert to the members the tenant's rule names."""

import logging
import zoneinfo
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from chargers.alerts.models import Alert, AlertRule
from cpms.languages import date_pattern, language_of, recipient_language

log = logging.getLogger(__name__)


def queue_notification(alert: Alert) -> None:
    def queue():
        from chargers.alerts.tasks import send_notification

        try:
            send_notification.delay(tenant_id=alert.tenant_id, alert_id=alert.pk)
        except Exception:
            log.warning("could not queue the email about alert %s", alert.pk, exc_info=True)

    transaction.on_commit(queue)


def recipient_users(alert: Alert) -> list:
    rule = AlertRule.objects.filter(kind=alert.kind).first()
    if rule is None or not rule.enabled:
        return []
    # Only members who accepted: an invitation not yet answered hears nothing of the tenant.
    members = rule.notify.filter(accepted_at__isnull=False).select_related("user")
    return [m.user for m in members if m.user.is_active]


def recipients(alert: Alert) -> list[str]:
    return sorted(user.email for user in recipient_users(alert))


def send(*, alert_id: int) -> int:
    alert = Alert.objects.select_related("tenant").filter(pk=alert_id).first()
    if alert is None:
        return 0
    # One email per language: each recipient reads it in the language they chose.
    readers: dict[str, list] = defaultdict(list)
    for user in recipient_users(alert):
        readers[language_of(user)].append(user)
    link = settings.SITE_URL.rstrip("/") + reverse(
        "alert_detail", kwargs={"tenant_slug": alert.tenant.slug, "pk": alert.pk}
    )
    opened = timezone.localtime(alert.opened_at, zoneinfo.ZoneInfo(alert.tenant.timezone))
    sent = 0
    for _language, users in sorted(readers.items()):
        with recipient_language(users[0]):
            subject = _("[%(tenant)s] %(severity)s: %(title)s") % {
                "tenant": alert.tenant.name,
                "severity": alert.get_severity_display(),
                "title": alert.shown_title,
            }
            opened_line = _("Opened %(time)s.") % {
                "time": dateformat.format(opened, f"{date_pattern()} H:i T")
            }
            link_line = _("Acknowledge it here: %(link)s") % {"link": link}
            body = f"{alert.shown_title}\n\n{alert.shown_detail}\n\n{opened_line}\n{link_line}\n"
        sent += send_mail(subject, body, None, sorted(user.email for user in users))
    return sent
