"""deploy/ without docker: the compose file parses and names the topology, the image's entry
points and the systemd units run commands that exist, and the documented production
environment passes `manage.py check --deploy`."""

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# What an installation of deploy/systemd/ has where this checkout has it.
INSTALLED = "/opt/cpms"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def entry_points() -> dict[str, list[str]]:
    """The commands deploy/docker-entrypoint.sh runs for each entry point name."""
    script = (DEPLOY / "docker-entrypoint.sh").read_text()
    found = re.findall(r"^\s+(\w+)\)\n(?:\s+#.*\n)*\s+exec (.+)$", script, re.MULTILINE)
    return {name: shlex.split(command) for name, command in found}


def assert_the_command_exists(argv: list[str]) -> None:
    program = Path(argv[0]).name
    if program == "python" and argv[1].endswith("manage.py"):
        assert argv[2] in get_commands(), f"manage.py has no command {argv[2]}"
    elif program == "celery":
        assert argv[1:3] == ["-A", "cpms"] and argv[3] in {"worker", "beat"}
        from cpms.celery import app

        assert app.main == "cpms"
        assert (Path(sys.executable).parent / "celery").exists()
    else:
        pytest.fail(f"unexpected program {argv[0]}")


def test_the_compose_file_names_the_whole_topology():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web1", "web2", "worker", "beat", "nginx"} <= set(
        services
    )
    nodes = [name for name, service in services.items() if service.get("command") == ["web"]]
    assert nodes == ["web1", "web2"]
    assert services["beat"]["command"] == ["beat"] and services["worker"]["command"] == ["worker"]


def test_nginx_spreads_over_every_node_and_keeps_metrics_inside():
    conf = (DEPLOY / "nginx" / "compose.conf").read_text()
    upstream = re.search(r"upstream cpms_daphne \{(.*?)\}", conf, re.DOTALL)
    assert upstream is not None
    assert re.findall(r"server (\w+):8000", upstream.group(1)) == ["web1", "web2"]
    assert "location = /metrics" in conf and "ssl_verify_client optional" in conf
    mounts = compose()["services"]["nginx"]["volumes"]
    for mount in mounts:
        source = mount.split(":")[0]
        if source != "./tls":  # the operator's certificates (deploy/README.md)
            assert (DEPLOY / source).exists(), source


def test_the_trusted_proxy_is_nginxs_fixed_address():
    services = compose()["services"]
    address = services["nginx"]["networks"]["cpms"]["ipv4_address"]
    assert services["web1"]["environment"]["TRUSTED_PROXIES"] == address


def test_every_service_of_the_image_runs_an_entry_point_that_exists():
    services = compose()["services"]
    points = entry_points()
    assert set(points) == {"web", "worker", "beat", "migrate"}
    for name, service in services.items():
        if service.get("image") == "cpms:latest":
            assert service["command"][0] in points, name
    for argv in points.values():
        assert_the_command_exists(argv)
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]' in dockerfile
    assert "USER cpms" in dockerfile and "FROM python:3.11-slim" in dockerfile
    assert os.access(DEPLOY / "docker-entrypoint.sh", os.X_OK)


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_the_systemd_units_parse_and_run_what_exists(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(unit)
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    argv = shlex.split(parser["Service"]["ExecStart"].replace(INSTALLED, str(ROOT)))
    argv[0] = argv[0].replace(str(ROOT / ".venv" / "bin"), str(Path(sys.executable).parent))
    assert Path(argv[0]).exists(), argv[0]
    assert parser["Service"]["EnvironmentFile"] == "/etc/cpms/cpms.env"
    assert_the_command_exists(argv)


def test_the_target_starts_every_unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / "systemd" / "cpms.target")
    wanted = set(parser["Unit"]["Wants"].split())
    assert {"cpms-worker.service", "cpms-beat.service"} <= wanted
    assert any(name.startswith("cpms-web@") for name in wanted)


def resolved(environment: dict[str, str]) -> dict[str, str]:
    """Compose's ${NAME:-default} and ${NAME:?error} as `up` resolves them with SECRET_KEY set."""
    given = {"SECRET_KEY": "a-production-key-of-its-own-for-the-check-0123456789"}

    def value(match: re.Match) -> str:
        name, kind, rest = match.group(1), match.group(2), match.group(3)
        return given.get(name, rest if kind == ":-" else "")

    return {
        key: re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", value, str(text))
        for key, text in environment.items()
    }


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    keep = {"PATH", "HOME", "LANG"}
    env = {key: value for key, value in os.environ.items() if key in keep} | environment
    # Hashed static names need the manifest `collectstatic` writes at install (the image's
    # build, deploy/README.md); this checkout has none.
    env["STATIC_MANIFEST"] = "false"
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_compose_environment_passes_the_deploy_check():
    checked = check_deploy(resolved(compose()["x-cpms-env"]))
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "no issues" in checked.stdout


def test_the_systemd_environment_passes_the_deploy_check():
    lines = (DEPLOY / "systemd" / "cpms.env.example").read_text().splitlines()
    environment = dict(
        line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")
    )
    checked = check_deploy(environment)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "no issues" in checked.stdout
