"""Settings for stocksite: one module, every value from the environment.

The defaults run on a laptop with nothing else installed (SQLite under var/, Celery tasks run
eagerly, a local-memory cache). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and friends;
every variable is listed in .env.example.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# Only for a laptop: `check --deploy` and the stocksite.E001 check reject it when DEBUG is off.
INSECURE_DEV_SECRET_KEY = "django-insecure-stocksite-development-key-do-not-use-in-production"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Reverse proxies in front of the site that append to X-Forwarded-For: the client address is the
# entry this many from the right. 0: the peer address (REMOTE_ADDR); the header is not trusted.
# The one source for DRF's NUM_PROXIES, allauth's rate limits and gunicorn.conf.py.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "core",
    "stocksite.apps.StocksiteConfig",
    "accounts",
    "market",
    "similarity",
    "billing",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "billing.middleware.EntitlementsMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.PersonalPagesNotStoredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "stocksite.urls"
WSGI_APPLICATION = "stocksite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "stocksite.context_processors.site",
            ],
        },
    },
]

# --- Data ---------------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A kept connection the server dropped (restart, failover, pg_terminate_backend) is noticed and
# replaced when the next request starts, instead of failing it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is the embedded default: a longer lock wait keeps the dev server and an eager task
    # writing at once from failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # Redis down must not take pages or logins down: see stocksite/cache.py.
    CACHES = {
        "default": {
            "BACKEND": "stocksite.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "stocksite",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without Redis there is no worker: run every task in the calling process.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# With acks_late, Redis hands a task whose worker died to another worker after this many seconds:
# longer than the longest task (SYNC_TASK_TIME_LIMIT), or a running task is started twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60 + 600)
}

# --- Auth and accounts --------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "account"
# A new account's next step is its first search (the search page greets it), not the account page.
ACCOUNT_SIGNUP_REDIRECT_URL = "/search/?welcome=1"
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = ACCOUNT_SIGNUP_REDIRECT_URL
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up says plainly that an email is taken (the product's choice over hiding which emails exist);
# login and password reset do not reveal it (password reset through accounts.forms).
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_FORMS = {"reset_password": "accounts.forms.PasswordResetForm"}
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    # The search page's pasted-prices preview (similarity.views.prices_preview), open to anyone:
    # a minute's previews per client address and per session (the page asks after each pause
    # in typing).
    "prices_preview": "60/m/ip",
    "prices_preview_session": "30/m/key",
}

EMAIL_HOST = env.str("EMAIL_HOST", default="")
# Without DEBUG the default is SMTP, and the site refuses to start unless EMAIL_HOST is set
# (stocksite.checks): reset links must never end up in the logs.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or not DEBUG
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="stocksite <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -----------------------------------------------------------------------

# Japanese first; English when the browser asks for it, the user saved it, or the footer switch
# chose it. Each language is named in itself, as the switcher shows it.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our date and number formats per language (2015/01/05 in Japanese, 2015-01-05 in English).
FORMAT_MODULE_PATH = ["core.formats"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- API ----------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous request gets 401 with a WWW-Authenticate header.
        "billing.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "10/min"},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "stocksite API",
    "DESCRIPTION": (
        "Find the stock charts that look like a chosen one across the Tokyo market, and what "
        "happened after them.\n\n"
        "Authenticate with a session or with `Authorization: Token <key>` (the key is on your "
        "account page).\n\n"
        "Every 4xx answer has one shape: "
        '`{"error": {"code": "...", "message": "...", "fields": {"<field>": ["..."]}}}`; '
        "`fields` is present when the request body or query failed validation."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # A chart's timeframe (search, bars, track record) beside the plans' billing interval.
    "ENUM_NAME_OVERRIDES": {"ChartIntervalEnum": "market.models.ChartInterval"},
}

# --- Product ------------------------------------------------------------------------------------

SIMILARITY_SNAPSHOT_DIR = Path(
    env.str("SIMILARITY_SNAPSHOT_DIR", default=str(VAR_DIR / "snapshot"))
)
# A snapshot older than this makes /healthz fail: the longest TSE closure (New Year, Golden Week)
# with its weekends stays under a week, and the snapshot is rebuilt after each day's prices.
SIMILARITY_SNAPSHOT_MAX_AGE_DAYS = env.int("SIMILARITY_SNAPSHOT_MAX_AGE_DAYS", default=7)
# Where the build worker publishes snapshots and every host pulls them from (s3://bucket/prefix);
# unset: one host, the snapshot built into SIMILARITY_SNAPSHOT_DIR only. SNAPSHOT_STORE_ENDPOINT
# points at an S3-compatible service; credentials come from the usual AWS_* variables.
SNAPSHOT_STORE_URL = env.str("SNAPSHOT_STORE_URL", default="")
SNAPSHOT_STORE_ENDPOINT = env.str("SNAPSHOT_STORE_ENDPOINT", default="")
SCRAPE_BASE_URL = env.str("SCRAPE_BASE_URL", default="https://kabutan.jp")
SCRAPE_RATE_PER_SECOND = env.float("SCRAPE_RATE_PER_SECOND", default=1.0)
SCRAPE_TIMEOUT_SECONDS = env.float("SCRAPE_TIMEOUT_SECONDS", default=10.0)
SCRAPE_MAX_RETRIES = env.int("SCRAPE_MAX_RETRIES", default=3)
SCRAPE_BACKOFF_SECONDS = env.float("SCRAPE_BACKOFF_SECONDS", default=2.0)
SCRAPE_RETRY_AFTER_MAX_SECONDS = env.float("SCRAPE_RETRY_AFTER_MAX_SECONDS", default=120.0)
SCRAPE_USER_AGENT = env.str(
    "SCRAPE_USER_AGENT", default="stocksite/1.0 (+https://github.com/stocksite; daily prices)"
)
SCRAPE_MAX_PAGES = env.int("SCRAPE_MAX_PAGES", default=10)
SCRAPE_OVERLAP_DAYS = env.int("SCRAPE_OVERLAP_DAYS", default=10)
SCRAPE_BATCH_SIZE = env.int("SCRAPE_BATCH_SIZE", default=100)
SCRAPE_TASK_RETRIES = env.int("SCRAPE_TASK_RETRIES", default=2)
SCRAPE_TASK_RETRY_SECONDS = env.float("SCRAPE_TASK_RETRY_SECONDS", default=300.0)
# Every response of a price site or API is read up to this size; more is refused.
SCRAPE_MAX_RESPONSE_BYTES = env.int("SCRAPE_MAX_RESPONSE_BYTES", default=20 * 1024 * 1024)
# One fetch, its retries and waits included, gives up after this many seconds.
SCRAPE_DEADLINE_SECONDS = env.float("SCRAPE_DEADLINE_SECONDS", default=600.0)
# Celery kills a per-stock scrape task after this many seconds (and a whole J-Quants sync after
# SYNC_TASK_TIME_LIMIT); a run whose records have not moved for SCRAPE_RUN_STALE_SECONDS is
# closed as failed by the reaper.
SCRAPE_TASK_TIME_LIMIT = env.int("SCRAPE_TASK_TIME_LIMIT", default=900)
SYNC_TASK_TIME_LIMIT = env.int("SYNC_TASK_TIME_LIMIT", default=2 * 60 * 60)
SCRAPE_RUN_STALE_SECONDS = env.int("SCRAPE_RUN_STALE_SECONDS", default=3 * 60 * 60)

# The exchange's API (J-Quants V2), the primary source when a key is set.
JQUANTS_API_KEY = env.str("JQUANTS_API_KEY", default="")
JQUANTS_API_BASE = env.str("JQUANTS_API_BASE", default="https://api.jquants.com/v2")
# Requests a minute the plan allows: Free 5, Light 60, Standard 120, Premium 500.
JQUANTS_RATE_PER_MINUTE = env.int("JQUANTS_RATE_PER_MINUTE", default=5)
# Seconds to wait after a 429 that says no Retry-After.
JQUANTS_RETRY_WAIT = env.float("JQUANTS_RETRY_WAIT", default=60.0)
# Where the daily sync reads prices: the exchange's own API with the operator's key. A scrape
# ("kabutan") only when the operator sets it, having checked that site's terms (see
# docs/market-data.md); without a key the J-Quants sync refuses and says why, never scrapes.
MARKET_SOURCE = env.str("MARKET_SOURCE", default="jquants")
if MARKET_SOURCE not in ("jquants", "kabutan"):
    raise ImproperlyConfigured(f"MARKET_SOURCE must be jquants or kabutan, not {MARKET_SOURCE!r}")

# Shape alerts: alerts per Celery task after a new data date, and a failed digest's retries.
ALERTS_BATCH_SIZE = env.int("ALERTS_BATCH_SIZE", default=2000)
ALERTS_MAIL_RETRIES = env.int("ALERTS_MAIL_RETRIES", default=4)
ALERTS_MAIL_RETRY_SECONDS = env.float("ALERTS_MAIL_RETRY_SECONDS", default=300.0)
# Alerts on LINE (the Messaging API of the site's LINE official account). Without the secret,
# the token and the add-friend link, the LINE option is hidden (staff are told why).
LINE_CHANNEL_SECRET = env.str("LINE_CHANNEL_SECRET", default="")
LINE_CHANNEL_ACCESS_TOKEN = env.str("LINE_CHANNEL_ACCESS_TOKEN", default="")
LINE_API_BASE = env.str("LINE_API_BASE", default="https://api.line.me")
LINE_ADD_FRIEND_URL = env.str("LINE_ADD_FRIEND_URL", default="")
LINE_TIMEOUT_SECONDS = env.float("LINE_TIMEOUT_SECONDS", default=10.0)

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Days a handled webhook event keeps its payload (customer names, emails, addresses).
STRIPE_EVENT_RETENTION_DAYS = env.int("STRIPE_EVENT_RETENTION_DAYS", default=90)
# Connect and read timeout of one Stripe call, and its retries: the worst case of one call,
# (1 + retries) x (connect + read) plus the back-off, 16.5 s by default, is inside gunicorn's 30 s.
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=4.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)

# The seller's facts for the page the Act on Specified Commercial Transactions requires
# (特定商取引法に基づく表記, /legal/commerce/). Empty address and phone: the page says they are
# disclosed without delay on request, which the Act allows; the other rows have plain defaults.
LEGAL_SELLER = env.str("LEGAL_SELLER", default="stocksite")
LEGAL_REPRESENTATIVE = env.str("LEGAL_REPRESENTATIVE", default="")
LEGAL_ADDRESS = env.str("LEGAL_ADDRESS", default="")
LEGAL_PHONE = env.str("LEGAL_PHONE", default="")
LEGAL_EMAIL = env.str("LEGAL_EMAIL", default="support@localhost")
LEGAL_PRICE = env.str("LEGAL_PRICE", default="")
LEGAL_PAYMENT = env.str("LEGAL_PAYMENT", default="")
LEGAL_DELIVERY = env.str("LEGAL_DELIVERY", default="")
LEGAL_CANCELLATION = env.str("LEGAL_CANCELLATION", default="")

# Candle colours of the charts: "red-up" (陽線 red, as many Japanese brokers draw them) or
# "green-up".
CANDLE_COLORS = env.str("CANDLE_COLORS", default="red-up")

# --- Security -----------------------------------------------------------------------------------

SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Container health checks call plain http on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a commitment only the operator of the domain can make (SECURE_HSTS_PRELOAD=1).
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=TRUSTED_PROXY_COUNT > 0):
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Django 5.2 has no CSP of its own. Every script is a file of ours; styles keep inline attributes
# (bar widths, chart overlays).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF, "data:"],
        "worker-src": [SELF, "blob:"],
        # The web app manifest and the service worker (stocksite.app) are our own files.
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "stocksite"
# A code of the 30-second step before or after also counts: a phone's clock a few seconds off,
# or a code typed as the step turns, is not refused.
MFA_TOTP_TOLERANCE = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

HEALTH_CHECKS = {
    "database": "stocksite.health.check_database",
    "cache": "stocksite.health.check_cache",
    "snapshot": "similarity.snapshot.snapshot_health",
}
CSRF_FAILURE_VIEW = "stocksite.views.csrf_failure"
