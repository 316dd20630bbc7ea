"""The URLs chargers call (no login; see `chargers.firmware.files`)."""

from django.urls import path

from chargers.firmware import files

urlpatterns = [
    path("firmware/<str:token>/<str:file_name>", files.firmware_download, name="firmware_download"),
    path("uploads/<slug:tenant>/<str:token>/", files.diagnostics_upload, name="diagnostics_upload"),
    path(
        "uploads/<slug:tenant>/<str:token>/<str:file_name>",
        files.diagnostics_upload,
        name="diagnostics_upload_named",
    ),
]
