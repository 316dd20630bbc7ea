"""Uploading a diagnostics or log file to the URL the CSMS named (GetDiagnostics / GetLog).

Real chargers mostly speak FTP here; the simulator speaks HTTP(S) only, with the standard
library, in a worker thread so the event loop keeps serving the other chargers.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit


def upload(location: str, filename: str, content: bytes, timeout: float) -> bool:
    """POST the file to the exact URL; if that method is not allowed, PUT it to URL/filename.

    Blocking; run it with asyncio.to_thread.
    """
    if urlsplit(location).scheme not in ("http", "https"):
        return False
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Filename": filename,
    }
    attempts = [("POST", location), ("PUT", location.rstrip("/") + "/" + filename)]
    for method, url in attempts:
        # The scheme was checked above: only http and https URLs get this far.
        request = urllib.request.Request(url, data=content, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return 200 <= response.status < 300
        except urllib.error.HTTPError as error:
            if error.code != 405:
                return False
        except (OSError, ValueError):
            return False
    return False
