"""WebSocket routes. Chargers' OCPP sockets and the dashboards' live channel are added by apps."""

websocket_urlpatterns: list = []
