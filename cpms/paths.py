"""The folders the embedded defaults write to, made by the entry points that need them."""

from pathlib import Path

from django.conf import settings


def make_var_dirs() -> None:
    """The SQLite files' folder and the collected static files' (whitenoise warns when its root
    is missing)."""
    settings.VAR_DIR.mkdir(exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
