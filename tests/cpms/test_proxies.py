"""What the CPMS believes of a reverse proxy's headers: only what a trusted proxy says."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from cpms import proxies
from cpms.proxies import TrustedProxyMiddleware

PROXY = "10.0.0.5"


def test_a_malformed_trusted_proxy_setting_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        proxies.trusted_networks(("10.0.0.0/8", "proxy.example.com"))


@pytest.mark.parametrize(
    "peer,trusted",
    [
        ("127.0.0.2", True),
        ("::ffff:127.0.0.2", True),
        ("2001:db8::1", True),
        ("127.0.0.1", False),
        ("", False),
    ],
)
def test_only_the_configured_proxies_are_trusted(settings, peer, trusted):
    settings.TRUSTED_PROXIES = ["127.0.0.2", "2001:db8::/64"]
    assert proxies.from_trusted_proxy(peer) is trusted


def seen(remote_addr: str, **headers):
    """What the views see of a request from `remote_addr` with these headers."""
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)
    TrustedProxyMiddleware(lambda r: None).process_request(request)
    return request


FORWARDED = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7"}


def test_a_trusted_proxy_says_who_the_client_is_and_that_it_spoke_https(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    request = seen(PROXY, **FORWARDED)
    # The proxy's own entry is the last one; the client may have claimed anything before it.
    assert request.META["REMOTE_ADDR"] == "198.51.100.7"
    assert request.is_secure()


def test_a_direct_client_cannot_claim_https_or_another_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    request = seen("203.0.113.9", **FORWARDED)
    assert request.META["REMOTE_ADDR"] == "203.0.113.9"
    assert not request.is_secure()
    assert "HTTP_X_FORWARDED_FOR" not in request.META


def test_without_trusted_proxies_no_forwarded_header_counts(settings):
    settings.TRUSTED_PROXIES = []
    assert not seen(PROXY, **FORWARDED).is_secure()


def test_serve_refuses_daphnes_own_proxy_headers():
    with pytest.raises(CommandError, match="TRUSTED_PROXIES"):
        call_command("serve", "--proxy-headers", "--no-worker")
