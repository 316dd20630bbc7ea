"""WebSocket routes: chargers' OCPP sockets and the dashboards' live channel.

Only the dashboard route reads the session cookie and checks the Origin: chargers send
neither, and their sockets authenticate with HTTP Basic in the OCPP consumer.
"""

from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier
from django.conf import settings
from django.urls import re_path

from chargers.dashboard.live import DashboardConsumer
from chargers.routing import websocket_urlpatterns as charger_routes


class SameOriginValidator:
    """Admits a browser's socket only from a page of the site it connects to: its Origin names
    the Host it asked for (or is one of CSRF_TRUSTED_ORIGINS). Channels' allowed-hosts check
    alone admits any page on the web once ALLOWED_HOSTS is '*', and the session cookie would
    then let that page listen to a member's tenant."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        if origin in settings.CSRF_TRUSTED_ORIGINS or (host and urlsplit(origin).netloc == host):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


websocket_urlpatterns = [
    re_path(
        r"^ws/dashboard/(?P<tenant_slug>[-a-zA-Z0-9_]+)/$",
        SameOriginValidator(
            AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi()))
        ),
    ),
    *charger_routes,
]
