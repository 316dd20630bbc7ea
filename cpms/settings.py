"""One settings module, configured by environment variables.

With nothing set, the embedded defaults apply: SQLite, an in-process channel layer, and Celery
work run by a worker thread inside the server process. Setting DATABASE_URL and REDIS_URL
switches to PostgreSQL (psycopg 3, pooled) and Redis (channel layer, broker, cache); the code
paths stay the same. With CI=true those two default to the local services.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# The embedded defaults' files (SQLite, collected static files); made by the entry points
# (manage.py, asgi.py: `cpms.paths.make_var_dirs`), never by importing settings.
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

CI = env.bool("CI", default=False)
DEBUG = env.bool("DEBUG", default=False)
# A fixed development key is only acceptable for the embedded first run; check --deploy and
# the production settings below require SECRET_KEY.
EMBEDDED_SECRET_KEY = "insecure-embedded-default-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", default=EMBEDDED_SECRET_KEY)
# What the tenants' CA keys are sealed with (through HKDF): by default the SECRET_KEY, so
# rotating that without setting this to the old value leaves the CAs unusable.
CERTIFICATE_KEY_SECRET = env("CERTIFICATE_KEY_SECRET", default=SECRET_KEY)
# Production is a run with DEBUG off and a key of its own: then HTTPS, secure cookies and HSTS
# are the defaults (below). The embedded first run serves plain HTTP on localhost.
PRODUCTION = not DEBUG and SECRET_KEY != EMBEDDED_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "axes",
    "cpms",
    "cpms.audit",
    "chargers",
    "chargers.alerts",
    "chargers.smart_charging",
    "chargers.firmware",
    "chargers.reservations",
    "chargers.local_lists",
    "chargers.configuration",
    "chargers.certificates",
    "billing",
]

MIDDLEWARE = [
    "cpms.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in person's own language wins over the browser's.
    "cpms.languages.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "cpms.tenancy.doors.TenantMiddleware",
    # After the tenant: a person's role in it goes into their audit entries.
    "cpms.audit.context.AuditMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cpms.urls"
ASGI_APPLICATION = "cpms.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cpms.context_processors.tenancy",
            ],
        },
    },
]

# --- Real parts: database, Redis -------------------------------------------------------------

if CI:
    # CI runs against the local services for real; conftest fails loudly when they are down.
    env_db_default = "postgres://postgres@127.0.0.1:5432/cpms"
    env_redis_default = "redis://127.0.0.1:6379/0"
else:
    env_db_default = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    env_redis_default = ""

DATABASES = {"default": env.db("DATABASE_URL", default=env_db_default)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool: persistent connections are handled by the pool, not CONN_MAX_AGE.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        # CI never uses the main database, only test_*: open nothing until asked.
        "min_size": env.int("DATABASE_POOL_MIN", default=0 if CI else 2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": 10,
    }
    # Django's backend, but a pooled connection is tried before use only when the server has
    # written to it (ended it, say by a restart): cpms/postgresql/base.py.
    DATABASES["default"]["ENGINE"] = "cpms.postgresql"
    # PostgreSQL compiles a query with LLVM when its estimated cost is high, and the fleet
    # pages' state counts over 10,000 chargers are estimated high: compiling took ~450 ms of a
    # 12 ms query (bench.pages). Short web queries never win that time back.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
    # The hot path's fixed statements (cpms/tenancy/rows.py) bind their parameters on the
    # server: psycopg prepares one once a connection has run it five times, and PostgreSQL no
    # longer parses and plans it for every message. Django's own statements are bound in
    # Python and never prepared. PgBouncer in transaction mode keeps prepared statements from
    # 1.21 on (max_prepared_statements); DATABASE_PREPARE=false for an older one.
    if env.bool("DATABASE_PREPARE", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
else:
    # A file, not memory, so that a server started by the tests shares the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # WAL lets the dashboard read while chargers write; a busy timeout beats "locked" errors.
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # The covering index of sessions stores extra columns on PostgreSQL; SQLite builds it as a
    # plain index, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Threads per server process for the charger sockets' database work (chargers/ocpp/dbwork.py);
# SQLite takes one writer at a time. Each thread mostly waits on PostgreSQL round trips, with
# the GIL let go: at 4, 50 chargers' MeterValues waited on the threads (315 to 361 answered a
# second); at 8 the process answered 428 a second, and a storm's handshakes got through a
# fifth faster (the benchmark, 2026-12-07).
OCPP_DB_THREADS = env.int(
    "OCPP_DB_THREADS",
    default=8 if DATABASES["default"]["ENGINE"] == "cpms.postgresql" else 1,
)

# Group commit (chargers/ocpp/group_commit.py): how many groups of charger messages one server
# process writes at once. A message that finds a writer free is written at once; the others
# wait for the next group, written in one transaction with one commit.
OCPP_GROUP_WRITERS = env.int("OCPP_GROUP_WRITERS", default=min(OCPP_DB_THREADS, 2))

# Admission control (chargers/ocpp/admission.py): WebSocket handshakes one server process works
# on at once (0: no bound). A storm beyond it is refused at once with 503 and a Retry-After of
# OCPP_ADMISSION_RETRY_AFTER seconds (plus up to as much again, at random, so the retries
# spread), before any database work, rather than queued until the chargers have given up.
# With 8 database threads a storm keeps the process's one core busy (the GIL: about 14 ms of
# its CPU per connect-and-boot, about 60 a second on the reference machine), so more threads
# do not raise the rate and the bound does not follow them: the last of those in progress is
# answered well inside the 5 s a charger waits (a storm of 2,000 on one process: slowest reply
# 4.4 s at 100, 8.6 s at 300; of 5,000 on two processes with group commit: all Accepted in 24.5
# s, slowest 5.4 s at 100; 23.8 and 26.3 s, slowest 2.4 and 3.2 s at 50).
OCPP_MAX_HANDSHAKES_IN_PROGRESS = env.int("OCPP_MAX_HANDSHAKES_IN_PROGRESS", default=50)
OCPP_ADMISSION_RETRY_AFTER = env.int("OCPP_ADMISSION_RETRY_AFTER", default=2)
if OCPP_MAX_HANDSHAKES_IN_PROGRESS < 0:
    raise ImproperlyConfigured("OCPP_MAX_HANDSHAKES_IN_PROGRESS: 0 (no bound) or more")
if OCPP_ADMISSION_RETRY_AFTER < 1:
    raise ImproperlyConfigured("OCPP_ADMISSION_RETRY_AFTER: at least 1 (second)")

# Refused OCPP handshakes are counted per address and charger, and floods refused unheard
# (chargers/ocpp/throttle.py). Off only where a proxy in front throttles them already.
OCPP_HANDSHAKE_THROTTLE = env.bool("OCPP_HANDSHAKE_THROTTLE", default=True)

# Addresses (or networks) of the reverse proxies in front of daphne: their X-Forwarded-For,
# X-Forwarded-Proto and, for OCPP security profile 3, client-certificate headers are believed,
# anyone else's dropped (cpms/proxies.py). OCPP_TRUSTED_PROXIES is the setting's former name.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=env.list("OCPP_TRUSTED_PROXIES", default=[]))

# Who may read a node's /metrics (cpms/metrics.py): these networks, or a request with
# `Authorization: Bearer <METRICS_TOKEN>`. Outside production the loopback by default; in
# production nobody until one of them is set.
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS", default=[] if PRODUCTION else ["127.0.0.0/8", "::1/128"]
)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# The longest a node stopped with SIGTERM waits for its sockets to close before it exits
# (cpms/daphne.py); the unit's TimeoutStopSec and compose's stop_grace_period are longer.
DRAIN_SECONDS = env.float("DRAIN_SECONDS", default=20.0)

REDIS_URL = env("REDIS_URL", default=env_redis_default)
EMBEDDED = not REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "cpms.channel_layer.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s the layer
                # blocks in BZPOPMIN for: an idle consumer's read times out and the consumer
                # dies with its socket (channels_redis#422). Give the blocking read room.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's in-memory transport: the worker thread started by `manage.py serve` consumes it.
    CELERY_BROKER_URL = "memory://"

# Tasks the chargers' answer path queues wait here for the broker (cpms/handoff.py); beyond
# this many, a Redis stall drops the newest (each has a periodic safety net).
HANDOFF_QUEUE_SIZE = env.int("HANDOFF_QUEUE_SIZE", default=10_000)

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker died mid-task (acks_late: not acknowledged) goes back to the queue after
# this many seconds, found by a sweep every worker makes as often (at most every 10 s). Keep it
# above the longest task: a task still running then is run a second time (every task is
# idempotent, but the work is done twice).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": min(10, CELERY_VISIBILITY_TIMEOUT),
    "unacked_restore_throttle": 1,
    # The sweep above holds a lock in Redis while it scans (milliseconds); a worker killed
    # holding it would stop every worker's sweep for kombu's default 5 minutes. Two sweeps at
    # once are harmless (each message is restored in a transaction that finds it once).
    "unacked_mutex_expire": min(60, CELERY_VISIBILITY_TIMEOUT),
}
# kombu's Redis transport is at most once in one narrow gap: a worker killed between taking a
# message off the queue and noting it unacknowledged loses it (celery#7950). Every task the
# chargers' path queues has a periodic safety net; this is how often billing's runs (pricing the
# ended sessions a lost task left unpriced, a minute after their stop at the earliest).
PRICING_SWEEP_SECONDS = env.int("PRICING_SWEEP_SECONDS", default=300)
if PRICING_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured("PRICING_SWEEP_SECONDS: at least 1 (second)")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the connection pool of a prefork child before and after every
# task unless connections are reused: each task opened new PostgreSQL connections (a server
# process forked for each). Reused, the pool is closed every 2 x this many tasks; between tasks
# the connection goes back to the child's pool (cpms/celery.py), which drops a broken one.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {"task": "cpms.tasks.clear_expired_sessions", "schedule": 3600.0},
    "mark-silent-chargers-offline": {
        "task": "chargers.tasks.mark_silent_chargers_offline",
        "schedule": 60.0,
    },
    "time-out-stale-commands": {
        "task": "chargers.tasks.time_out_stale_commands",
        "schedule": 60.0,
    },
    "close-stale-sessions": {"task": "chargers.tasks.close_stale_sessions", "schedule": 600.0},
    "trim-message-log": {"task": "chargers.tasks.trim_message_log", "schedule": 3600.0},
    "trim-handshake-refusals": {
        "task": "chargers.tasks.trim_handshake_refusals",
        "schedule": 3600.0,
    },
    "evaluate-alerts": {"task": "chargers.alerts.tasks.evaluate_all", "schedule": 60.0},
    "price-missed-sessions": {
        "task": "billing.tasks.price_missed_sessions",
        "schedule": float(PRICING_SWEEP_SECONDS),
    },
    "issue-invoices": {"task": "billing.tasks.issue_invoices", "schedule": 3600.0},
    "send-running-costs": {"task": "billing.tasks.send_running_costs", "schedule": 10.0},
    "requeue-due-webhooks": {"task": "cpms.tasks.requeue_due_webhooks", "schedule": 300.0},
    "recompute-load-plans": {
        "task": "chargers.smart_charging.tasks.recompute_all",
        "schedule": 60.0,
    },
    "firmware-tick": {"task": "chargers.firmware.tasks.tick", "schedule": 60.0},
    "reservations-tick": {"task": "chargers.reservations.tasks.tick", "schedule": 60.0},
    "sync-local-lists": {"task": "chargers.local_lists.tasks.tick", "schedule": 60.0},
    "delete-expired-diagnostics": {
        "task": "chargers.firmware.tasks.delete_expired_diagnostics",
        "schedule": 3600.0,
    },
    "renew-charger-certificates": {
        "task": "chargers.certificates.tasks.renew_due",
        "schedule": 24 * 3600.0,
    },
    "settle-charger-certificates": {
        "task": "chargers.certificates.tasks.settle_all",
        "schedule": 300.0,
    },
    "purge-audit-log": {"task": "cpms.audit.tasks.purge_all", "schedule": 24 * 3600.0},
}

# --- Auth, email --------------------------------------------------------------------------------

AUTH_USER_MODEL = "cpms.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env("EMAIL_HOST", default="")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="cpms@localhost")

# --- Security: strict in production ------------------------------------------------------------

# Believed only from TRUSTED_PROXIES: cpms.proxies drops the header from anyone else.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Probes and Prometheus ask each node directly over plain HTTP (cpms.health, cpms.metrics).
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# No inline script, style elements or plugins anywhere (django-csp): pages load their scripts and
# styles from static/, the live socket and fetches go to this site only. Style attributes stay
# allowed for the admin's few.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Logins (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account from one
# address, that pair waits LOGIN_LOCKOUT_MINUTES (429 and the lockout page). Keyed on both,
# so nobody can lock a member out from elsewhere; platform staff unlock early in the admin
# (Axes: access attempts) or with `manage.py axes_reset_username EMAIL`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "cpms.logins.login_name"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "cpms.logins.client_address"

# --- i18n, static -------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
# The languages the dashboard, the portal and the emails are complete in (tests/test_i18n.py).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env.bool("STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files (tenants' logos), in the default storage; never served as static files: a
# view checks who asks (cpms.views.tenant_logo).
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Firmware downloads: how long a charger's signed link works. Diagnostics uploads: the largest
# file taken, how long an upload URL works, and how long a file is kept.
FIRMWARE_DOWNLOAD_LINK_HOURS = env.int("FIRMWARE_DOWNLOAD_LINK_HOURS", default=48)
DIAGNOSTICS_MAX_UPLOAD_BYTES = env.int("DIAGNOSTICS_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
DIAGNOSTICS_UPLOAD_HOURS = env.int("DIAGNOSTICS_UPLOAD_HOURS", default=24)
DIAGNOSTICS_RETENTION_DAYS = env.int("DIAGNOSTICS_RETENTION_DAYS", default=30)
# How long audit entries are kept (days); a daily job purges older ones (cpms.audit.tasks).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
# Reservations: how far ahead one may end, for every tenant.
RESERVATION_MAX_HOURS = env.int("RESERVATION_MAX_HOURS", default=24)
# Serve straight from the finders when collectstatic has not run (embedded first run).
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Webhooks may target loopback and private addresses only where that is safe (tests, labs).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
# Plug & Charge calls out to remote contract providers and OCSP responders; labs may allow
# internal addresses (a charger names a responder URL, so public hosts only by default).
PNC_ALLOW_PRIVATE_ADDRESSES = env.bool("PNC_ALLOW_PRIVATE_ADDRESSES", default=False)
# The built-in test V2G PKI (contracts for simulated EVs, chargers' V2G certificates): on for
# demos and labs; off in production, where a real V2G PKI provider plays these roles.
# `check --deploy` warns while it is on with DEBUG off (certificates.W001).
PNC_TEST_PKI = env.bool("PNC_TEST_PKI", default=True)

# --- REST API (/api/v1/): the base view in cpms.api.base sets tenant, roles and scope ----------

REST_FRAMEWORK = {
    # Views get authentication and permissions from cpms.api.base.TenantViewSet; anything
    # else is closed by default.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cpms.api.base.error_response",
    "DEFAULT_THROTTLE_RATES": {"api": env("API_RATE_LIMIT", default="1200/min")},
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CPMS API",
    "DESCRIPTION": "Everything an operator can do, for integrators. Authenticate with "
    "`Authorization: Bearer <API key>`; a tenant's key decides the tenant and the role, a "
    "platform staff key names the tenant in `X-Tenant: <slug>`. Errors are "
    '`{"error": {"status", "code", "message", "fields"}}`, `fields` naming each bad input. '
    "A command is answered at once: 201 when its outcome is known (the charger is offline), "
    "202 with a `Location` to poll while the charger answers.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from static/vendor: the product runs with no internet.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui-dist/favicon-32x32.png",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cpms.api.base.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RootKindEnum": "chargers.certificates.models.RootKind",
        "CertificateOperationKindEnum": "chargers.certificates.models.OperationKind",
        "CertificateUseEnum": "chargers.certificates.models.CertificateUse",
        "CertificateRequestStateEnum": "chargers.certificates.models.RequestState",
        "IssuedCertificateStateEnum": "chargers.certificates.models.IssuedState",
        "CertificateOperationStateEnum": "chargers.certificates.models.OperationState",
        "CertificateAuthoritySourceEnum": "chargers.certificates.models.AuthoritySource",
        "MemberRoleEnum": "cpms.models.Role",
        "ApiKeyRoleEnum": "cpms.models.ApiKeyRole",
        "ChargerStateEnum": "chargers.selectors.fleet.STATE_CHOICES",
        "TariffDimensionEnum": "billing.pricing.DIMENSIONS",
        "CdrDimensionEnum": "billing.api.CDR_DIMENSIONS",
        "CampaignStateEnum": "chargers.firmware.models.CampaignState",
        "TargetStateEnum": "chargers.firmware.models.TargetState",
        "DiagnosticsStateEnum": "chargers.firmware.models.DiagnosticsState",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # A refused request (403, 404) is one line, not the traceback of the refusal.
    "filters": {"refusals_in_one_line": {"()": "cpms.logs.RefusalsInOneLine"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refusals_in_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "ocpp": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # WeasyPrint narrates every step of every document (and of its own style sheets at
        # import) at INFO.
        "weasyprint": {"level": "WARNING"},
    },
}
