"""WebSocket routes: chargers' OCPP sockets and the dashboards' live channel.

Only the dashboard route reads the session cookie and checks the Origin: chargers send
neither, and their sockets authenticate with HTTP Basic in the OCPP consumer.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from chargers.dashboard.live import DashboardConsumer
from chargers.routing import websocket_urlpatterns as charger_routes

websocket_urlpatterns = [
    re_path(
        r"^ws/dashboard/(?P<tenant_slug>[-a-zA-Z0-9_]+)/$",
        AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi())),
    ),
    *charger_routes,
]
