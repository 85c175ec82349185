"""Django settings of the test CAS server. Read from the environment set by __main__.py."""
import os
import secrets

SECRET_KEY = secrets.token_urlsafe(48)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "mama_cas",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["CAS_SERVER_DB"]}}
ROOT_URLCONF = "tests.support.cas_server.urls"
STATIC_URL = "/static/"
# Our backend is a registered service on 127.0.0.1 (any port): tickets are issued only to it,
# and it gets single-logout requests (a POST to the service URL).
MAMA_CAS_SERVICES = [{"SERVICE": r"^http://127\.0\.0\.1:\d+/", "LOGOUT_ALLOW": True, "CALLBACKS": []}]
MAMA_CAS_FOLLOW_LOGOUT_URL = True
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"mama_cas": {"handlers": ["console"], "level": "INFO"}}}
