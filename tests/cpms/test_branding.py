"""The tenant's logo: uploaded by its admins, checked (image type from its bytes, size), stored
under the tenant's own folder, shown in the header and served only to the tenant's people."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cpms.models import Tenant
from cpms.services.tenants import LOGO_MAX_BYTES, tenant_remove_logo, tenant_set_logo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(content, name="logo.png"):
    return SimpleUploadedFile(name, content, content_type="image/png")


def settings_page():
    return reverse("tenant_settings", kwargs={"tenant_slug": "tenant-a"})


def logo_url(slug="tenant-a"):
    return reverse("tenant_logo", kwargs={"slug": slug})


def test_an_admin_uploads_a_logo_and_every_page_shows_it(client, tenant_a, alice, media):
    client.force_login(alice)
    response = client.post(settings_page(), {"logo": upload(PNG)})
    assert response.status_code == 302 and response["Location"] == settings_page()
    tenant_a.refresh_from_db()
    assert tenant_a.logo.name.startswith(f"tenants/{tenant_a.pk}/logo-")
    assert (media / tenant_a.logo.name).read_bytes() == PNG
    overview = client.get(reverse("tenant_overview", kwargs={"tenant_slug": "tenant-a"}))
    assert f'<img src="{logo_url()}?v=' in overview.content.decode()


def test_the_logo_is_served_as_the_image_it_is_and_nothing_more(client, tenant_a, alice):
    tenant_set_logo(tenant=tenant_a, upload=upload(JPEG, "photo.png"))
    client.force_login(alice)
    response = client.get(logo_url())
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "content,problem",
    [(SVG, "PNG, JPEG or WebP"), (b"GIF89a" + b"\x00" * 20, "PNG, JPEG or WebP")],
    ids=["svg", "gif"],
)
def test_anything_but_a_png_jpeg_or_webp_image_is_refused(
    client, tenant_a, alice, content, problem
):
    client.force_login(alice)
    response = client.post(settings_page(), {"logo": upload(content)})
    assert response.status_code == 200 and problem in response.content.decode()
    tenant_a.refresh_from_db()
    assert not tenant_a.logo


def test_a_logo_over_the_size_limit_is_refused(tenant_a):
    too_big = upload(PNG + b"\x00" * LOGO_MAX_BYTES)
    with pytest.raises(ValidationError) as refused:
        tenant_set_logo(tenant=tenant_a, upload=too_big)
    assert "logo" in refused.value.message_dict
    assert not Tenant.objects.get(pk=tenant_a.pk).logo


def test_a_new_logo_replaces_the_old_file(django_capture_on_commit_callbacks, tenant_a, media):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_set_logo(tenant=tenant_a, upload=upload(PNG))
    first = tenant_a.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        tenant_set_logo(tenant=tenant_a, upload=upload(JPEG))
    assert not (media / first).exists() and (media / tenant_a.logo.name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        tenant_remove_logo(tenant=tenant_a)
    assert not Tenant.objects.get(pk=tenant_a.pk).logo
    assert not [path for path in (media / "tenants").rglob("*") if path.is_file()]


def test_a_site_owner_sees_the_logo_of_their_operator(client, tenant_a, paula):
    tenant_set_logo(tenant=tenant_a, upload=upload(PNG))
    client.force_login(paula)
    portal = client.get(reverse("portal_home", kwargs={"tenant_slug": "tenant-a"}))
    assert logo_url() in portal.content.decode()
    assert client.get(logo_url()).status_code == 200


def test_charlie_gets_404_for_another_tenants_logo(client, tenant_a, charlie):
    tenant_set_logo(tenant=tenant_a, upload=upload(PNG))
    client.force_login(charlie)
    assert client.get(logo_url()).status_code == 404
    assert client.get(logo_url("no-such-tenant")).status_code == 404


def test_bob_the_viewer_cannot_change_the_logo(client, tenant_a, bob):
    client.force_login(bob)
    assert client.post(settings_page(), {"logo": upload(PNG)}).status_code == 403
    assert not Tenant.objects.get(pk=tenant_a.pk).logo
