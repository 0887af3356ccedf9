"""A small office app that knows nothing of Curfew: it trusts the `Remote-User` header its
reverse proxy sets (Django's RemoteUserMiddleware and RemoteUserBackend), as any app
behind forward auth does. It must never be reachable except through that proxy.

Environment: OFFICEAPP_DB (the SQLite file for Django's user table; `manage.py migrate`
creates it), OFFICEAPP_BANNER_TAG=1 (the base template loads Curfew's banner itself, for a
proxy that cannot rewrite pages, such as Caddy without plugins).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("OFFICEAPP_SECRET_KEY", "test-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "officeapp",
]

MIDDLEWARE = [
    "officeapp.middleware.ContentSecurityPolicy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The proxy's header, not the WSGI server's REMOTE_USER variable.
    "officeapp.middleware.ProxyRemoteUser",
]

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.RemoteUserBackend"]

ROOT_URLCONF = "officeapp.urls"
WSGI_APPLICATION = "officeapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "officeapp.views.banner_tag",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("OFFICEAPP_DB", str(BASE_DIR / "officeapp.sqlite3")),
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_NAME = "officeapp_session"
CSRF_COOKIE_NAME = "officeapp_csrftoken"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_DIR = BASE_DIR / "static"
BANNER_TAG = os.environ.get("OFFICEAPP_BANNER_TAG") == "1"

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
