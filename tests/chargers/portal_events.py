"""The events a site owner hears, spelled out once for the tests that pin the catalogue's
choice and the socket that delivers them."""

PORTAL_EVENTS = {
    "charger.online",
    "charger.offline",
    "connector.status",
    "session.started",
    "session.updated",
    "session.stopped",
}
