"""Secrets shown once across a POST/redirect/GET: a form that creates a key or a password
redirects after its POST (so that a reload cannot create another), and the page it lands on
shows the secret a single time.

The secret waits in the person's server-side session between the redirect and the next page;
reading it removes it, so a reload or a later visit shows it no more.
"""

from __future__ import annotations

from django.http import HttpRequest

PREFIX = "shown-once:"


def keep_for_one_display(request: HttpRequest, name: str, value: dict) -> None:
    """Keep `value` for the next page that asks for `name`."""
    request.session[PREFIX + name] = value


def take(request: HttpRequest, name: str) -> dict | None:
    """What was kept under `name`, removed from the session; None when nothing was kept."""
    return request.session.pop(PREFIX + name, None)
