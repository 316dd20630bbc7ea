"""A fleet of in-process chargers for the orchestrator's tests: the command path is replaced by
`FakeFleet.perform`, which records the command as the real path does and answers it; `play()`
then has each charger that got an update report what the simulator's firmware reports
(Downloading, Downloaded, Installing, Installed or a failure) and boot, on the new version or,
for those told to, on the old one. Everything goes through the charger domain's services, so
the orchestrator hears it through the same events as in production; Celery runs eagerly and
the test's on-commit callbacks run as the transaction would commit them."""

from __future__ import annotations

from dataclasses import dataclass, field

from chargers.firmware.models import CampaignTarget
from chargers.models import Charger, CommandStatus, OcppVersion
from chargers.ocpp import builders
from chargers.ocpp.readers import FIRMWARE_STAGES
from chargers.services.commands import command_create, command_finish
from chargers.services.reports import charger_boot_record, charger_set_reported_status

VENDOR, MODEL = "Acme", "AC22"
FIRMWARE = bytes(range(256)) * 40  # 10,240 bytes


def make_chargers(count, *, site=None, prefix="CP-", version="1.0.0", start=1, step=1):
    """`count` chargers of the campaigns' model; odd numbers speak 1.6, even ones 2.0.1."""
    rows = [
        Charger(
            identity=f"{prefix}{n:04d}",
            site=site,
            vendor=VENDOR,
            model=MODEL,
            firmware_version=version,
            ocpp_version=OcppVersion.V16 if n % 2 else OcppVersion.V201,
        )
        for n in range(start, start + count * step, step)
    ]
    return Charger.objects.bulk_create(rows)


@dataclass
class Sent:
    identity: str
    action: str
    payload: dict


@dataclass
class FakeFleet:
    # Identities whose update fails while downloading; and those that report Installed but
    # boot on the version they ran.
    failing: set[str] = field(default_factory=set)
    old_version: set[str] = field(default_factory=set)
    offline: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    _due: list[tuple[int, builders.Request]] = field(default_factory=list)

    def perform(self, charger, request, **options):
        command = command_create(
            charger=charger,
            action=request.action,
            payload=request.payload,
            source=options.get("source", "system"),
        )
        self.sent.append(Sent(charger.identity, request.action, request.payload))
        if charger.identity in self.offline:
            command_finish(
                command_id=command.pk,
                status=CommandStatus.OFFLINE,
                error="The charger is not connected.",
            )
            return command
        if request.action == "GetDiagnostics":
            reply = {"fileName": f"diagnostics-{charger.identity}.txt"}
        elif request.action == "GetLog":
            reply = {"status": "Accepted", "filename": f"log-{charger.identity}.txt"}
        else:
            # 1.6 UpdateFirmware's reply is empty; the others say Accepted.
            reply = {"status": "Accepted"} if "requestId" in request.payload else {}
            self._due.append((charger.pk, request))
        command_finish(command_id=command.pk, status=CommandStatus.ANSWERED, response=reply)
        return command

    def play(self) -> int:
        """Every charger that was sent an update goes through it; returns how many did."""
        due, self._due = self._due, []
        for charger_id, request in due:
            charger = Charger.objects.get(pk=charger_id)
            request_id = request.payload.get("requestId")
            if charger.identity in self.failing:
                steps = ["Downloading", "DownloadFailed"]
            else:
                steps = ["Downloading", "Downloaded", "Installing", "Installed"]
            for status in steps:
                report(charger_id, status, request_id)
            if charger.identity in self.failing:
                continue
            version = charger.firmware_version
            if charger.identity not in self.old_version:
                version = target_version(charger_id)
            charger_boot_record(charger_id=charger_id, reported={"firmware_version": version})
        return len(due)

    def sent_to(self, identity):
        return [s for s in self.sent if s.identity == identity]


def report(charger_id, status, request_id=None):
    charger_set_reported_status(
        charger_id=charger_id,
        field="firmware_status",
        value=status,
        operation="firmware",
        stage=FIRMWARE_STAGES[status],
        request_id=request_id,
    )


def target_version(charger_id):
    target = (
        CampaignTarget.objects.select_related("campaign__image")
        .filter(charger_id=charger_id)
        .latest("id")
    )
    return target.campaign.image.version


def upload_path_of(fleet):
    """The path of the upload URL the last diagnostics request sent named (1.6 or 2.0.1)."""
    payload = fleet.sent[-1].payload
    url = payload.get("location") or payload["log"]["remoteLocation"]
    return url.removeprefix("http://127.0.0.1:8000")
