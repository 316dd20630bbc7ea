"""Whether this node is being drained (stopped gently): set once by the server on SIGTERM
(cpms/daphne.py), read by the readiness probe and the OCPP door, which then answer 503 so that
the proxy and the orchestrator send new work to the other nodes."""

import threading

_draining = threading.Event()


def start() -> None:
    _draining.set()


def draining() -> bool:
    return _draining.is_set()
