"""Fetching a firmware image from the URL the CSMS named (UpdateFirmware), as a charger does:
HTTP(S) GET, resumed with a byte range after an interrupted first try.

Blocking, with the standard library; run it with asyncio.to_thread.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

CHUNK = 64 * 1024


def download(location: str, timeout: float) -> int | None:
    """The image's size in bytes once fetched whole, or None when it could not be fetched."""
    if urlsplit(location).scheme not in ("http", "https"):
        return None
    received = 0
    for _attempt in range(2):
        headers = {"Range": f"bytes={received}-"} if received else {}
        # The scheme was checked above: only http and https URLs get this far.
        request = urllib.request.Request(location, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                if received and response.status != 206:
                    received = 0  # the server sent the whole file again
                while chunk := response.read(CHUNK):
                    received += len(chunk)
                return received
        except urllib.error.HTTPError:
            return None
        except (OSError, ValueError):
            continue  # interrupted: resume from what arrived
    return None
