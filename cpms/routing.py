"""WebSocket routes: chargers' OCPP sockets (and, with the dashboards, their live channel)."""

from chargers.routing import websocket_urlpatterns as charger_routes

websocket_urlpatterns = [*charger_routes]
