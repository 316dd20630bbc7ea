"""A real nginx in front of servers a test started: the deploy/ configs rendered for test ports,
paths and certificates, nginx run as a child process group with its own prefix, stopped
afterwards. Never the system service."""

import contextlib
import datetime
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from tests.helpers import ROOT, stop_process_group, wait_for_port

DEPLOY_NGINX = ROOT / "deploy" / "nginx"


def require_nginx() -> str:
    """nginx's path. Skipped locally when nginx is not installed; under CI=true (where `.ci/run`
    installs it) that is a failure instead."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if not found:
        if settings.CI:
            pytest.fail("CI=true but nginx is not installed (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed here (apt-get install -y nginx)")
    return found


def render(name: str, replacements: Iterable[tuple[str, str]]) -> str:
    """deploy/nginx/`name` with each (old, new) replaced; an `old` the file no longer contains
    fails loudly, so the test cannot drift from what is shipped without noticing."""
    text = (DEPLOY_NGINX / name).read_text()
    for old, new in replacements:
        assert old in text, f"deploy/nginx/{name} no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def server_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed TLS server certificate for `host` (an IP address), valid for a day:
    (server.crt, server.key) in `directory`. A client trusts it as its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    crt, pem_key = directory / "server.crt", directory / "server.key"
    crt.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pem_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return crt, pem_key


@contextlib.contextmanager
def running_nginx(directory: Path, http: str, ports: Iterable[int]) -> Iterator[Path]:
    """nginx with `http` as the content of its http {} block, prefixed in `directory` (its pid,
    logs and temporary files go there), in a process group of its own; waits until each of
    `ports` listens, yields the error log's path, and ends the group however the block ends."""
    binary = require_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    temp_paths = "".join(
        f"{kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    error_log = directory / "error.log"
    config = directory / "nginx.conf"
    config.write_text(
        # As root, nginx would switch its workers to a user that may not read the temp dir.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        + f"error_log {error_log} info;\nevents {{}}\n"
        + f"http {{\naccess_log off;\n{temp_paths}{http}\n}}\n"
    )
    with open(directory / "nginx.out", "w") as out:
        process = subprocess.Popen(
            [binary, "-p", str(directory), "-c", str(config), "-e", str(error_log)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for port in ports:
            wait_for_port(port, process=process)
        yield error_log
    finally:
        stop_process_group(process)


def ocpp_site(
    directory: Path, *, upstream_port: int, tls_port: int, plain_port: int, source: str
) -> str:
    """deploy/nginx/cpms-ocpp.conf for a test: TLS (server.crt, server.key) and the charger CA
    (charger-ca.crt) from `directory`, listening on 127.0.0.1's `tls_port` and `plain_port`,
    proxying to the daphne on `upstream_port` from the address `source` (the proxy the server
    trusts); its proxy parameters are written beside them."""
    params = render("cpms-ocpp-proxy.conf", [])
    (directory / "cpms-ocpp-proxy.conf").write_text(params + f"proxy_bind {source};\n")
    return render(
        "cpms-ocpp.conf",
        [
            ("/etc/cpms/tls/", f"{directory}/"),
            ("/etc/nginx/cpms-ocpp-proxy.conf", f"{directory}/cpms-ocpp-proxy.conf"),
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
            ("listen 80;", f"listen 127.0.0.1:{plain_port};"),
            ("listen [::]:443 ssl;", ""),
            ("listen [::]:80;", ""),
        ],
    )
