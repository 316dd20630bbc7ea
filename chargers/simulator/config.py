"""What one simulated charger is: its identity, its hardware and how it behaves.

Every duration is in seconds and may be fractional, so tests can run a whole session in a
fraction of a second while a demo uses the minutes a real charger would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

VERSIONS = ("1.6", "2.0.1")
SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}

# A small fixed pool, so a CSMS can register the same tags once and authorise every session.
DEFAULT_ID_TAGS = tuple(f"SIM-TAG-{n:04d}" for n in range(1, 11))


@dataclass
class ChargerConfig:
    # The CSMS endpoint without the charger id: ws://host:port/ocpp/<tenant-slug>/
    url: str
    charger_id: str
    password: str | None = None
    version: str = "1.6"

    # Hardware, as reported in BootNotification and used by the meter model.
    connectors: int = 2
    vendor: str = "CPMS-Sim"
    model: str = "SimCharger AC22"
    serial: str = ""  # empty: SN-<charger id>
    firmware_version: str = "1.0.0"
    # A 1.6 charger that shows costs as the OCA's California Pricing whitepaper describes
    # (DataTransfer RunningCost/FinalCost; its CustomDisplayCostAndPrice key reads true).
    california_pricing: bool = False
    max_power_w: float = 22080.0  # 3 phases x 32 A x 230 V
    # The local authorization list: whether the charger has one (1.6 feature profile
    # LocalAuthListManagement, 2.0.1 LocalAuthListCtrlr), how many entries it holds and how
    # many one SendLocalList may carry (more: the charger answers Failed).
    local_list: bool = True
    local_list_max: int = 1000
    local_list_per_message: int = 100

    # Usage: the idle time between sessions on a connector (0 = sessions only on request) and
    # the mean length of a session (None = as long as the idle time; 0 = until stopped).
    session_interval: float = 0.0
    session_duration: float | None = None
    meter_interval: float = 60.0
    # None means: use the interval the CSMS returns in BootNotification.
    heartbeat_interval: float | None = None
    id_tags: tuple[str, ...] = DEFAULT_ID_TAGS

    # The share of cars that speak ISO 15118 with the charger (their needs, their schedule).
    iso15118_share: float = 0.0
    # Plug & Charge (2.0.1 only): every car is an ISO 15118 car with a contract, which it has
    # the CSMS install (its built-in test V2G PKI) and then authorises with; `emaid` names
    # the contract (empty: one derived from the charger id).
    plug_and_charge: bool = False
    emaid: str = ""

    # Seconds between the things a charger does on its own besides charging (a security
    # event, vendor data, a certificate renewal, a local power limit); 0: none.
    incident_interval: float = 0.0
    # Ask the CSMS for a charging station certificate (a new key and CSR) once registered, as
    # a charger installed without one does.
    request_certificate: bool = False
    # Security profile 3: on wss://, present the charging station certificate the CSMS signed
    # (and no password) once it has one, reconnecting to use a new one; without one yet it
    # connects by password (profile 2). `server_ca`: a CA file the CSMS's TLS certificate is
    # checked against (empty: the system's).
    client_certificate: bool = False
    server_ca: str = ""

    # Misbehaviour: the share of sessions ended by a connector fault, how long a fault lasts,
    # and the share of firmware updates that fail.
    fault_rate: float = 0.0
    fault_duration: float = 60.0
    firmware_failure_rate: float = 0.0
    # The share of updates that report Installed but boot on the old version (a known fault
    # of real chargers: the CSMS must count them as failed).
    firmware_stale_rate: float = 0.0
    # Fetch the image from the URL the CSMS names (HTTP(S) only), as a charger would; off, the
    # download is only pretended (the URL may name nothing).
    download_firmware: bool = False
    # Settings the charger takes only with a restart: 1.6 keys or 2.0.1 Component.Variable
    # names whose change it answers with RebootRequired (holding the new value meanwhile).
    reboot_required: tuple[str, ...] = ()

    # Timing of the charger's own processes.
    firmware_step_seconds: float = 2.0
    reboot_seconds: float = 2.0
    upload_timeout: float = 10.0

    # Transport and OCPP retry behaviour.
    response_timeout: float = 10.0
    open_timeout: float = 10.0
    ping_interval: float | None = 60.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    boot_retry_seconds: float = 30.0
    message_attempts: int = 3
    message_retry_interval: float = 5.0
    boot_on_reconnect: bool = False
    # Schema validation of our own messages costs ~0.4 ms each; benchmarks switch it off.
    validate: bool = True

    seed: int | str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.version not in VERSIONS:
            raise ValueError(f"OCPP version must be one of {', '.join(VERSIONS)}")
        if self.plug_and_charge and self.version != "2.0.1":
            raise ValueError("Plug & Charge needs OCPP 2.0.1")
        if self.connectors < 1:
            raise ValueError("A charger needs at least one connector")
        if not self.serial:
            self.serial = f"SN-{self.charger_id}"[:25]

    @property
    def subprotocol(self) -> str:
        return SUBPROTOCOLS[self.version]

    @property
    def endpoint(self) -> str:
        """The full WebSocket URL: the base URL plus the URL-encoded charger id."""
        return self.url.rstrip("/") + "/" + quote(self.charger_id, safe="")


def charger_ids(prefix: str, count: int, start: int = 1) -> list[str]:
    """prefix + zero-padded number, at least four digits wide: SIM-0001, SIM-0002, ..."""
    width = max(4, len(str(start + count - 1)))
    return [f"{prefix}{n:0{width}d}" for n in range(start, start + count)]
