"""The app's pages: a greeting, notes (a form POST) and its two static files."""
from django.conf import settings
from django.urls import path, re_path
from django.views.static import serve

from officeapp import views

urlpatterns = [
    path("", views.hello, name="hello"),
    path("notes/", views.notes, name="notes"),
    path("whoami", views.whoami, name="whoami"),
    re_path(r"^static/(?P<path>[a-z]+\.(js|css))$", serve, {"document_root": settings.STATIC_DIR}),
]
