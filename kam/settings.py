"""KAM settings: one module, every knob an environment variable with a safe default.

Defaults give a zero-setup developer install (SQLite file, Celery on an embedded filesystem broker).
Production and CI set DATABASE_URL=postgres://... and REDIS_URL=redis://...
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("KAM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (set DJANGO_DEBUG=1 for a local development run)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 - debug only

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Password for the demo logins created by `manage.py seed_demo`.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="kam-demo-2026")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "channels.apps.KnoxConfig",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "channels.apps.AxesConfig",
    "kam",
    "channels.apps.ChannelsConfig",
    "customers.apps.CustomersConfig",
    "orders.apps.OrdersConfig",
    "opportunities.apps.OpportunitiesConfig",
    "service.apps.ServiceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kam.request_cache.RequestCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kam.middleware.LoginRequiredMiddleware",
    "kam.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a login refused for a lockout into the lockout page
]

ROOT_URLCONF = "kam.urls"
WSGI_APPLICATION = "kam.wsgi.application"
ASGI_APPLICATION = "kam.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kam.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
if not env.str("DATABASE_URL", default=""):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the zero-setup SQLite file lives here
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kam.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # explicit atomic() around business operations
# Test databases: PostgreSQL ones are copied from a template with a UTF-8 ctype (under "C", pg_trgm
# finds no trigrams in Chinese text); SQLite ones are files so a Celery worker process can share them.
DATABASES["default"]["TEST"] = {"TEMPLATE": env.str("DB_TEST_TEMPLATE", default="template0")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reuse connections (a new one costs 7-10 ms per request) and check them before use.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite: wait for the writer instead of failing at once when the worker and web write together.
    # One file per test process, so parallel runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

AUTH_USER_MODEL = "channels.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Axes first: it refuses a locked-out login before the password is even checked (kam.lockout).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "DJANGO_PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)

# --- Cache ----------------------------------------------------------------------------------------


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server (scheme, credentials, host, port, query) with database `db`:
    redis://h:6380/0 -> redis://h:6380/1, rediss://:pw@h/ -> rediss://:pw@h/1."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # DB 1 for the cache; the broker keeps DB 0 to itself (no eviction of queued tasks).
            "LOCATION": env.str("CACHE_URL", default="") or redis_db_url(REDIS_URL, 1),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself: intranets have no CDN) -------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "kam.static_finders.AppDirectoriesFinder",  # the apps' folders, less bundles KAM never serves
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600  # absolute session lifetime (ASVS 7.3.2)
SECURE_HTTPS = env.bool("DJANGO_SECURE_HTTPS", default=not DEBUG)
if SECURE_HTTPS:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("DJANGO_BEHIND_PROXY", default=False):
        # Only behind a proxy that overwrites X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Signing in: lockout after failed logins, API tokens ------------------------------------------
# django-axes counts the failed logins of the login page, the admin and POST /api/v1/auth/token/ (kam.lockout).
# An account is locked from one address after KAM_LOGIN_FAILURE_LIMIT failures; an address is locked for every
# account after KAM_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures (looser: offices share one address behind NAT; 0 = off).
# A lock lifts KAM_LOGIN_COOLOFF_MINUTES after the last failed attempt, or when an admin unlocks it (README).
AXES_FAILURE_LIMIT = env.int("KAM_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("KAM_LOGIN_COOLOFF_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
KAM_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("KAM_LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=50)
AXES_HANDLER = "kam.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "kam.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "kam.lockout.client_address"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed login stays in admin (AccessAttempt rows go on unlock)
AXES_SENSITIVE_PARAMETERS = []  # logs name the account and the address (passwords are always masked)
# Behind DJANGO_TRUSTED_PROXIES reverse proxies that append to X-Forwarded-For, the client address is the entry
# the outermost of them appended; without DJANGO_BEHIND_PROXY it is REMOTE_ADDR (a forged header changes nothing).
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
KAM_TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=1) if BEHIND_PROXY else 0
# API tokens (django-rest-knox): stored hashed, one per client login, expiring. People get KAM_API_TOKEN_HOURS;
# integration logins (systems, not people) KAM_API_TOKEN_HOURS_INTEGRATION, so the system stores a token it rotates
# monthly instead of a password. A login beyond KAM_API_TOKENS_PER_USER live tokens revokes the oldest ones.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("KAM_API_TOKEN_HOURS", default=10)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
KAM_API_TOKEN_TTL_INTEGRATION = timedelta(hours=env.int("KAM_API_TOKEN_HOURS_INTEGRATION", default=30 * 24))
KAM_API_TOKENS_PER_USER = env.int("KAM_API_TOKENS_PER_USER", default=20)

# --- E-mail ---------------------------------------------------------------------------------------
MAILERS = {
    "default": {
        "BACKEND": env.str(
            "EMAIL_BACKEND",
            default="django.core.mail.backends.console.EmailBackend"
            if DEBUG
            else "django.core.mail.backends.smtp.EmailBackend",
        ),
        "OPTIONS": {"host": env.str("EMAIL_HOST", default="localhost"), "port": env.int("EMAIL_PORT", default=25)}
        if not DEBUG and not env.str("EMAIL_BACKEND", default="")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="kam@localhost")
# The SMS gateway is outside the system: kam.sms.SmsBackend is its interface.
# Absolute address of the app, for links in e-mails.
SITE_URL = env.str("KAM_SITE_URL", default="http://localhost:8000")
# How long a satisfaction follow-up link sent to a customer works (service.services.follow_up).
KAM_FOLLOW_UP_LINK_DAYS = env.int("KAM_FOLLOW_UP_LINK_DAYS", default=14)
SMS_BACKEND = env.str("SMS_BACKEND", default="kam.sms.LoggingSmsBackend")
# The provisioning system (BOSS direct activation) is outside the system: orders.provisioning_backends is its
# interface. The deadline warning of a work-order step comes when this share of its time limit is left.
KAM_PROVISIONING_BACKEND = env.str(
    "KAM_PROVISIONING_BACKEND", default="orders.provisioning_backends.LoggingProvisioningBackend"
)
KAM_PROVISIONING_WARNING_SHARE = env.float("KAM_PROVISIONING_WARNING_SHARE", default=0.25)

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a bad token answers 401 with WWW-Authenticate rather than a session 403.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "kam.api.pagination.KeysetPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "kam.api.schema.AutoSchema",  # "" allowed where the API returns it
    "EXCEPTION_HANDLER": "kam.api.errors.exception_handler",
    # JSON nested deeper than kam.api.parsers.MAX_DEPTH is a 400 (Python's decoder would recurse into a 500).
    "DEFAULT_PARSER_CLASSES": [
        "kam.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KAM API",
    "DESCRIPTION": "Key-account management CRM for telecom enterprise business.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Models whose `status` fields have different choices: named enums instead of hash-suffixed ones.
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "MemberStatusEnum": "customers.models.GroupMember.Status",
        # tier, service_tier, from_tier, to_tier... share one enum; evaluation kinds differ from visit kinds
        "TierEnum": "customers.models.Tier",
        "TierEvaluationKindEnum": "customers.models.TierEvaluation.Kind",
        "VisitKindEnum": "customers.models.Visit.Kind",
        "OpportunityKindEnum": "opportunities.models.Kind",
        "ActivityKindEnum": "opportunities.models.Activity.Kind",
        "AgreementStatusEnum": "orders.models.Agreement.Status",
        "OrderKindEnum": "orders.models.Order.Kind",
        "TicketKindEnum": "service.models.tickets.Kind",
    },
}

# --- Celery ---------------------------------------------------------------------------------------
# Reliability settings from ECOSYSTEM.md §5.2. The database, not the broker, records pending work.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 1800,  # > longest task runtime; set in all three places (celery#7651)
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
else:
    # Embedded broker: messages are files in var/broker, shared by web, worker and beat processes,
    # so the zero-setup install still runs a real worker and beat without a Redis server.
    for _folder in ("queue", "processed", "control"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),  # kombu's default is ./control
        "store_processed": False,
        "visibility_timeout": 1800,
        # kombu polls the folder once a second by default: with prefetch 1, that is about two messages a
        # second for a worker of two. A tenth of a second routes a demo burst in seconds (a listdir per poll).
        "polling_interval": 0.1,
    }
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 1800}
CELERY_VISIBILITY_TIMEOUT = 1800
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # re-run tasks whose worker child died (tasks are idempotent)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule lives here (django-celery-beat does not support Django 6.1 yet).
CELERY_BEAT_SCHEDULE = {
    # Recompute the denormalised member counts shown on lists from the member facts (nightly).
    "refresh-member-counts": {
        "task": "customers.tasks.refresh_member_counts",
        "schedule": 24 * 3600,
    },
    # The current month's member counts of every customer (MemberCount, read by the 360 chart), re-derived from
    # the member rows daily; the member writes recompute their customers' months themselves.
    "record-member-months": {
        "task": "customers.tasks.record_member_months",
        "schedule": crontab(minute=10, hour=0),
    },
    # Segment membership at the end of each month, for the movement report: shortly after midnight on the 1st,
    # labelled with the month that just ended (re-running replaces that month's rows).
    "snapshot-segments": {
        "task": "customers.tasks.snapshot_segments",
        "schedule": crontab(minute=20, hour=0, day_of_month=1),
    },
    # Tier and value evaluation of the latest billed month, on the 3rd (billing has loaded the month by then).
    # No kind is passed: TierPolicy.publication decides whether this run publishes (every month, or in
    # January, April, July and October); the other runs only refresh the computed tier, value and LTV.
    "evaluate-tiers": {
        "task": "customers.tasks.evaluate_tiers_task",
        "schedule": crontab(minute=0, hour=2, day_of_month=3),
    },
    # The database, not the broker, records pending routing: re-enqueue what is pending beyond
    # KAM_ROUTING_SWEEP_AFTER seconds (lost with a broker restart, a dead worker or a failed enqueue).
    "sweep-routing": {
        "task": "opportunities.tasks.sweep_routing",
        "schedule": env.int("KAM_ROUTING_SWEEP_EVERY", default=60),
    },
    # Claim timers: escalate what is unclaimed at the claim deadline, return to the queue at the return deadline.
    "claim-timers": {
        "task": "opportunities.tasks.enforce_claim_timers",
        "schedule": 60,
    },
    # Stale and idle alerts (stage older than its limit, no follow-up activity), once a day.
    "opportunity-alerts": {
        "task": "opportunities.tasks.stale_alerts",
        "schedule": crontab(minute=30, hour=7),
    },
    # E-mail/SMS of notifications recorded by the router and the timers (batched), and of any whose delivery
    # task was lost (broker down at commit).
    "deliver-notifications": {
        "task": "channels.tasks.deliver_notifications",
        "schedule": 15,
    },
    # Export jobs queued longer than KAM_EXPORT_SWEEP_AFTER seconds are enqueued again (a lost message), and
    # jobs whose worker died mid-run are taken back.
    "sweep-exports": {
        "task": "channels.tasks.sweep_exports",
        "schedule": 60,
    },
    # Export files past their KAM_EXPORT_TTL_HOURS are deleted (their jobs marked expired), and job rows older
    # than KAM_EXPORT_KEEP_DAYS go.
    "expire-exports": {
        "task": "channels.tasks.expire_exports",
        "schedule": 15 * 60,
    },
    # Agreements: expire or renew what ended, expiry reminders 90/60/30 days ahead, renewal opportunities.
    "agreement-sweep": {
        "task": "orders.tasks.agreement_sweep",
        "schedule": crontab(minute=40, hour=6),
    },
    # Work-order SLA: warn before a step's deadline, escalate after it, tell the customer of a late order (once each).
    "provisioning-sweep": {
        "task": "orders.tasks.provisioning_sweep",
        "schedule": 5 * 60,
    },
    # Ticket SLA: warn before a deadline, mark the breach, escalate up the team chain while it stays unmet.
    "ticket-sla-sweep": {
        "task": "service.tasks.ticket_sla_sweep",
        "schedule": 2 * 60,
    },
    # Satisfaction follow-up links that are due go out by SMS.
    "send-follow-ups": {
        "task": "service.tasks.send_follow_ups",
        "schedule": 10 * 60,
    },
}
# Pending routing older than this (seconds) is re-enqueued by the sweep.
KAM_ROUTING_SWEEP_AFTER = env.int("KAM_ROUTING_SWEEP_AFTER", default=90)

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Times with their UTC offset, so that lines of gunicorn, the app and the Celery processes compare.
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s", "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    },
    "filters": {
        "expected_denials": {"()": "kam.logfilters.ExpectedDenials"},
        "no_hostname_noise": {"()": "kam.logfilters.NoHostnameNoise"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["expected_denials", "no_hostname_noise"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Domain knobs ---------------------------------------------------------------------------------
# Lists larger than this show "more than N" instead of an exact count (no COUNT(*) over big tables).
KAM_LIST_COUNT_CAP = env.int("KAM_LIST_COUNT_CAP", default=1000)
# Exports (channels.exports): up to KAM_EXPORT_IMMEDIATE_MAX_ROWS rows are downloaded at once; larger ones are
# prepared in the background into KAM_EXPORT_DIR (private: served only to their requester, by the download view),
# kept KAM_EXPORT_TTL_HOURS hours; the job rows are listed for KAM_EXPORT_KEEP_DAYS days. A person has at most
# KAM_EXPORT_ACTIVE_PER_USER exports on their way at a time.
KAM_EXPORT_IMMEDIATE_MAX_ROWS = env.int("KAM_EXPORT_IMMEDIATE_MAX_ROWS", default=5000)
KAM_EXPORT_DIR = Path(env.str("KAM_EXPORT_DIR", default=str(VAR_DIR / "exports")))
KAM_EXPORT_TTL_HOURS = env.int("KAM_EXPORT_TTL_HOURS", default=24)
KAM_EXPORT_KEEP_DAYS = env.int("KAM_EXPORT_KEEP_DAYS", default=30)
KAM_EXPORT_ACTIVE_PER_USER = env.int("KAM_EXPORT_ACTIVE_PER_USER", default=3)
KAM_EXPORT_SWEEP_AFTER = env.int("KAM_EXPORT_SWEEP_AFTER", default=120)
