from django.urls import re_path

from chargers.ocpp.consumer import OcppConsumer

# The charger id arrives URL-encoded and is decoded before routing, so it may contain "/".
websocket_urlpatterns = [
    re_path(r"^ocpp/(?P<tenant_slug>[^/]+)/(?P<charge_point_id>.+)$", OcppConsumer.as_asgi()),
]
