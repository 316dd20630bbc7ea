"""`manage.py demo` stops its children in order: the simulated fleet, whose last messages
end the sessions on the server, before the server. Small stand-in processes play both."""

import io
import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command

from chargers.management.commands import demo
from chargers.management.commands.demo import shut_down, start_child, stop

PATIENCE = 30.0

# A stand-in child: says "<name> ready" once its handler is in place, then waits for its
# signal, on which it says "<name> stopped" and exits. The fleet stand-in first takes a moment,
# as the real fleet does to end its sessions, and says whether the server was still there
# meanwhile: its stops need the server's answers.
CHILD = """
import signal, sys, time
name, log, sig = sys.argv[1], sys.argv[2], int(sys.argv[3])
def said():
    with open(log) as f:
        return f.read().splitlines()
def say(line):
    with open(log, "a") as f:
        f.write(line + "\\n")
def on_signal(*_):
    if name == "fleet":
        time.sleep(0.2)
        up = "server stopped" not in said()
        say("the server answered the stops" if up else "the server was gone")
    say(name + " stopped")
    sys.exit(0)
signal.signal(sig, signal.SIG_IGN if name == "stubborn" else on_signal)
say(name + " ready")
while True:
    time.sleep(1)
"""


def child(name: str, log, sig: int):
    return start_child([sys.executable, "-c", CHILD, name, str(log), str(int(sig))])


def lines(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def wait_for_line(log, line: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while line not in lines(log):
        assert time.monotonic() < deadline, f"no {line!r} in {lines(log)}"
        time.sleep(0.02)


def test_the_fleet_stops_before_the_server(tmp_path):
    log = tmp_path / "log"
    server = child("server", log, signal.SIGTERM)
    fleet = child("fleet", log, signal.SIGINT)
    wait_for_line(log, "server ready")
    wait_for_line(log, "fleet ready")

    shut_down(fleet=fleet, server=server)

    assert lines(log)[2:] == ["the server answered the stops", "fleet stopped", "server stopped"]
    assert (fleet.returncode, server.returncode) == (0, 0)


def test_the_children_do_not_get_the_terminals_ctrl_c(tmp_path):
    # A terminal signals its foreground process group; each child has a group of its own.
    log = tmp_path / "log"
    server = child("server", log, signal.SIGTERM)
    try:
        assert os.getpgid(server.pid) == server.pid != os.getpgrp()
    finally:
        shut_down(fleet=None, server=server)


def test_a_child_that_does_not_stop_when_asked_is_terminated(tmp_path):
    log = tmp_path / "log"
    stubborn = child("stubborn", log, signal.SIGINT)
    wait_for_line(log, "stubborn ready")

    stop(stubborn, signal.SIGINT, seconds=0.1)

    assert stubborn.returncode == -signal.SIGTERM


# A stand-in demo: starts a server stand-in as the demo does, says its pid, and waits.
PARENT = """
import sys, time
import django
django.setup()
from chargers.management.commands.demo import start_child
server = start_child([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)"])
print(server.pid, flush=True)
while True:
    time.sleep(1)
"""


def test_the_children_end_when_the_demo_is_killed(tmp_path):
    # Killed outright (no Ctrl-C, no cleanup), the demo must not leave a server holding its
    # port: the next `make demo` could not listen, and its fleet would talk to the old one.
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cpms.settings"},
    )
    server_pid = None
    try:
        server_pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + PATIENCE
        while gone(server_pid) is False:
            assert time.monotonic() < deadline, "the server outlived the demo"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if server_pid and not gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone too (its parent, killed, no longer reaps it until init does).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1].startswith("Z")


class Finished:
    """A stand-in child that has already exited."""

    returncode = 0

    def poll(self):
        return 0

    def wait(self, timeout=None):
        return 0


def run_demo(monkeypatch, *args: str) -> dict[str, dict | None]:
    """Run `manage.py demo` with stand-in children; returns each child's environment by its
    management command."""
    started: dict[str, dict | None] = {}

    def start(command, env=None):
        started[command[2]] = env
        return Finished()

    monkeypatch.setattr(demo, "start_child", start)
    monkeypatch.setattr(demo.Command, "wait_for", lambda *_: None)
    # The demo takes over Ctrl-C; not in the test process.
    monkeypatch.setattr(demo.signal, "signal", lambda *_: None)
    call_command("demo", *args, stdout=io.StringIO())
    return started


def test_the_demo_server_links_chargers_to_the_port_it_serves(monkeypatch):
    # Firmware downloads and diagnostics uploads are links on SITE_URL: on another port than
    # the default's, chargers would fetch from and upload to nothing (or another demo).
    monkeypatch.delenv("SITE_URL", raising=False)

    started = run_demo(monkeypatch, "--port", "8137", "--no-simulator")

    assert started["serve"]["SITE_URL"] == "http://127.0.0.1:8137"


def test_the_demo_keeps_a_site_url_it_is_given(monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://cpms.example.test")

    started = run_demo(monkeypatch, "--port", "8137", "--no-simulator")

    assert started["serve"]["SITE_URL"] == "https://cpms.example.test"
