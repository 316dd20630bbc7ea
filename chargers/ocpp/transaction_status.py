"""E14: the CSMS asks a 2.0.1 charger whether it still holds messages of a transaction that
ended with gaps in its sequence numbers, and keeps asking, a bounded number of times, while it
says it does and they have not all come.

The first question goes out from the socket's consumer right after the answer to the ending
report (`CentralSystem201._ask_transaction_status`). Each answer (`command.finished`) is heard
here, after commit, and decides the next step, in a task:

- the gaps are filled (the queued reports came meanwhile): done;
- the charger holds nothing more for it (`messagesInQueue` false): done, the missing numbers
  are numbers it skipped (gaps are legal);
- it refused the question (a CALLERROR, a refusal): done, asking again would get the same;
- it still holds messages, or the question went unanswered (a timeout, the charger offline):
  asked again after a pause that doubles each time (`PAUSES`), at most `MOST_ASKS` times in all.

Nothing of this runs on a charger's message path: one string comparison per finished command.
"""

from __future__ import annotations

from chargers.commands import send_command
from chargers.events import CommandFinished
from chargers.metering import missing_sequence_numbers
from chargers.models import Charger, ChargingSession, Command, CommandStatus
from chargers.ocpp import JsonDict
from cpms.handoff import queue_task

ACTION = "GetTransactionStatus"
# Who sends the question, on the command's record.
SOURCE = "transaction-end"
# How many times one transaction's status is asked at most, and the pause before each
# question after the first (seconds): 0.5 + 1 + 2 + 4 minutes, a charger's queue drains in
# that time or it is not draining.
MOST_ASKS = 5
PAUSES = (30.0, 60.0, 120.0, 240.0)  # one fewer than MOST_ASKS
# How an answer leaves the question.
DONE = "done"
AGAIN = "again"
# Outcomes after which asking again could still help.
UNANSWERED = (CommandStatus.TIMEOUT, CommandStatus.OFFLINE)


def question(transaction_id: str) -> JsonDict:
    return {"transactionId": transaction_id}


def asked_about(command: Command) -> str | None:
    """The transaction a GetTransactionStatus command asked about, if it asked about one."""
    payload = command.payload if isinstance(command.payload, dict) else {}
    transaction_id = payload.get("transactionId")
    return transaction_id if isinstance(transaction_id, str) else None


def messages_in_queue(response: object) -> bool | None:
    """What the charger said of its queue; None when it said nothing readable."""
    if not isinstance(response, dict):
        return None
    value = response.get("messagesInQueue")
    return value if isinstance(value, bool) else None


def missing_reports(*, charger_id: int, transaction_id: str) -> list[int]:
    """The sequence numbers of the transaction's reports not received yet (below the highest
    received); empty for a transaction nobody knows. Run in the charger's tenant scope."""
    session = ChargingSession.objects.filter(
        charger_id=charger_id, transaction_id=transaction_id
    ).first()
    if session is None:
        return []
    return missing_sequence_numbers(session.events.values_list("seq_no", flat=True))


def times_asked(*, charger_id: int, transaction_id: str) -> int:
    return Command.objects.filter(
        charger_id=charger_id, action=ACTION, source=SOURCE, payload__transactionId=transaction_id
    ).count()


def next_step(command: Command) -> tuple[str, float]:
    """After the outcome of a question this module asked: DONE, or AGAIN with the pause
    before asking. Run in the command's tenant scope."""
    transaction_id = asked_about(command)
    if command.source != SOURCE or transaction_id is None:
        return DONE, 0.0
    if not missing_reports(charger_id=command.charger_id, transaction_id=transaction_id):
        return DONE, 0.0
    if command.status == CommandStatus.ANSWERED:
        if messages_in_queue(command.response) is not True:
            return DONE, 0.0
    elif command.status not in UNANSWERED:
        return DONE, 0.0
    asked = times_asked(charger_id=command.charger_id, transaction_id=transaction_id)
    if asked >= MOST_ASKS:
        return DONE, 0.0
    return AGAIN, PAUSES[asked - 1]


def ask_again(*, charger: Charger, transaction_id: str) -> Command | None:
    """Ask once more, unless the reports have all come meanwhile (or the bound is reached).
    The answer is heard like the first one's; nothing waits for it here."""
    if not missing_reports(charger_id=charger.pk, transaction_id=transaction_id):
        return None
    if times_asked(charger_id=charger.pk, transaction_id=transaction_id) >= MOST_ASKS:
        return None
    return send_command(charger, ACTION, question(transaction_id), source=SOURCE, wait=False)


def on_command_finished(event: CommandFinished) -> None:
    """After commit: a question's outcome decides the next step, in a task."""
    if event.action != ACTION or event.tenant_id is None:
        return
    from chargers.tasks import transaction_status_answered  # (the task imports this module)

    queue_task(transaction_status_answered, tenant_id=event.tenant_id, command_id=event.command_id)
