from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from chargers.dashboard import overview
from chargers.dashboard.urls import portal_patterns
from cpms import health, metrics, views
from cpms.forms import PasswordResetForm

tenant_patterns: list[URLPattern | URLResolver] = [
    path("site-owners/", views.site_owner_list, name="site_owner_list"),
    path("site-owners/new/", views.site_owner_edit, name="site_owner_create"),
    path("site-owners/<int:pk>/", views.site_owner_detail, name="site_owner_detail"),
    path("site-owners/<int:pk>/edit/", views.site_owner_edit, name="site_owner_edit"),
    path("members/", views.member_list, name="member_list"),
    path("members/new/", views.member_edit, name="member_create"),
    path("members/<int:pk>/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("settings/", views.tenant_settings, name="tenant_settings"),
    path("", include("chargers.dashboard.urls")),
    path("", include("billing.urls")),
    path("", include("chargers.firmware.urls")),
    path("", include("chargers.reservations.urls")),
    path("", include("chargers.local_lists.urls")),
    path("", include("chargers.configuration.urls")),
    path("", include("chargers.certificates.urls")),
    path("", include("cpms.audit.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Django's reset, with the email in the language the person chose.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetForm,
            email_template_name="registration/password_reset_email.txt",
        ),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("switch-tenant/", views.switch_tenant, name="switch_tenant"),
    path("invitations/", views.invitations, name="invitations"),
    path("account/", views.account, name="account"),
    # Not below /t/<slug>/: site owners see the logo too, and no operator page.
    path("branding/<slug:slug>/logo", views.tenant_logo, name="tenant_logo"),
    path("favicon.ico", RedirectView.as_view(url=static("cpms/favicon.svg"), permanent=True)),
    path("platform/", overview.platform, name="platform"),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
    path("portal/<slug:tenant_slug>/", include(portal_patterns)),
    path("portal/<slug:tenant_slug>/", include("billing.portal_urls")),
    path("admin/", admin.site.urls),
    # For probes and Prometheus, per node: no login, no tenant (cpms.health, cpms.metrics).
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/", include("cpms.api_urls")),
    # What chargers fetch and upload: firmware images and diagnostics (no login).
    path("charger-files/", include("chargers.firmware.charger_urls")),
]
