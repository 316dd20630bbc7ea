from django.urls import re_path

from chargers.ocpp.admission import Door
from chargers.ocpp.consumer import OcppConsumer

# The charger id arrives URL-encoded and is decoded before routing, so it may contain "/".
websocket_urlpatterns = [
    # Channels routes ASGI applications with Django's re_path, whose stubs take views only.
    re_path(
        r"^ocpp/(?P<tenant_slug>[^/]+)/(?P<charge_point_id>.+)$",
        Door(OcppConsumer.as_asgi()),  # type: ignore[arg-type]
    ),
]
