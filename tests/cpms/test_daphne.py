"""Canaries for what cpms/daphne.py borrows from daphne: they fail on an upgrade that moves it.
(The 401 itself is tested end to end against `manage.py serve` in test_v16_handshake.py.)"""

import inspect
import pprint

from daphne.cli import CommandLineInterface as DaphneCommandLine
from daphne.server import Server as DaphneServer
from daphne.ws_protocol import WebSocketProtocol

from cpms import daphne


def test_the_command_line_builds_the_server_it_names():
    assert DaphneCommandLine.server_class is DaphneServer
    assert "self.server_class(" in inspect.getsource(DaphneCommandLine.run)
    assert daphne.CommandLineInterface.server_class is daphne.Server


def test_the_server_hands_scopes_and_replies_where_ours_takes_them():
    assert list(inspect.signature(DaphneServer.create_application).parameters) == [
        "self",
        "protocol",
        "scope",
    ]
    assert "partial(self.handle_reply, protocol)" in inspect.getsource(
        DaphneServer.create_application
    )
    assert list(inspect.signature(DaphneServer.handle_reply).parameters) == [
        "self",
        "protocol",
        "message",
    ]


def test_a_refusal_still_ends_the_open_handshake_as_ours_does():
    reject = inspect.getsource(WebSocketProtocol.serverReject)
    assert "self.handshake_deferred.errback(" in reject and "ConnectionDeny(" in reject
    assert "del self.handshake_deferred" in reject
    assert "self.server.protocol_disconnected(self)" in reject


def test_autobahn_still_fails_a_denied_handshake_through_failhandshake_with_headers():
    from autobahn.websocket.protocol import WebSocketServerProtocol

    assert list(inspect.signature(WebSocketServerProtocol.failHandshake).parameters) == [
        "self",
        "reason",
        "code",
        "responseHeaders",
    ]
    source = inspect.getsource(WebSocketServerProtocol.processHandshake)
    assert "self.failHandshake(err.value.reason, err.value.code)" in source


def test_a_denial_with_headers_answers_with_them():
    from twisted.internet import defer

    class Protocol:
        def __init__(self):
            self.answered = None
            self.handshake_deferred = defer.Deferred()
            # As autobahn's processHandshake chains the application's decision.
            self.handshake_deferred.addErrback(
                lambda failure: self.failHandshake(failure.value.reason, failure.value.code)
            )
            self.server = self

        def failHandshake(self, reason, code=400, responseHeaders=None):  # noqa: N802, N803
            self.answered = (code, reason, responseHeaders)

        def protocol_disconnected(self, protocol):
            pass

    protocol = Protocol()

    daphne.deny(protocol, 503, [("Retry-After", "3")])

    assert protocol.answered == (503, "Service Unavailable", [("Retry-After", "3")])
    assert not hasattr(protocol, "handshake_deferred")


def test_autobahn_still_pretty_prints_its_configuration_for_a_debug_line_per_connection():
    from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol

    source = inspect.getsource(AutobahnProtocol._connectionMade)
    assert 'self.log.debug("\\n{attrs}", attrs=pformat(configAttrLog))' in source


def test_autobahn_pretty_prints_only_when_the_line_is_written(monkeypatch):
    from autobahn.websocket import protocol

    made = []
    monkeypatch.setattr(pprint, "pformat", lambda obj: made.append(obj) or "formatted")

    attrs = protocol.pformat([("openHandshakeTimeout", 30, "Factory")])
    assert made == []
    assert f"\n{attrs}" == "\nformatted"
    assert made == [[("openHandshakeTimeout", 30, "Factory")]]
