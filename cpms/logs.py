"""Log filters."""

import logging


class RefusalsInOneLine(logging.Filter):
    """Django logs a refused request (PermissionDenied as 403, Http404) with the exception's
    traceback: thirty lines for a viewer who clicked a button their role lacks. The status line
    says it all; server errors (5xx) keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
