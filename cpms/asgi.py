"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpms.settings")
django_asgi_app = get_asgi_application()

from cpms.paths import make_var_dirs  # noqa: E402

make_var_dirs()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from cpms.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Channels' stubs want a pattern type of their own, which Django's re_path never returns.
        "websocket": URLRouter(websocket_urlpatterns),  # type: ignore[arg-type]
    }
)
