"""OCPP 2.0.1 display messages: what SetDisplayMessage shows on the station's screen."""

from __future__ import annotations

FORMATS = ("ASCII", "UTF8")  # the screen shows text; HTML and URI are not supported
PRIORITIES = ("AlwaysFront", "InFront", "NormalCycle")


class DisplayMessages:
    def __init__(self):
        self.messages: dict[int, dict] = {}  # id -> MessageInfo (snake_case keys)

    def set(self, message: dict, known_transaction) -> str:
        """A SetDisplayMessage status; known_transaction(id) says whether a transaction runs."""
        if message["message"]["format"] not in FORMATS:
            return "NotSupportedMessageFormat"
        if message["priority"] not in PRIORITIES:
            return "NotSupportedPriority"
        transaction_id = message.get("transaction_id")
        if transaction_id is not None and not known_transaction(transaction_id):
            return "UnknownTransaction"
        self.messages[message["id"]] = message
        return "Accepted"

    def find(self, ids=None, priority=None, state=None) -> list[dict]:
        return [
            m
            for m in self.messages.values()
            if (not ids or m["id"] in ids)
            and (priority is None or m["priority"] == priority)
            and (state is None or m.get("state") == state)
        ]

    def clear(self, message_id: int) -> str:
        return "Accepted" if self.messages.pop(message_id, None) is not None else "Unknown"

    def end_transaction(self, transaction_id: str) -> None:
        """Messages tied to a transaction disappear with it."""
        self.messages = {
            k: m for k, m in self.messages.items() if m.get("transaction_id") != transaction_id
        }
