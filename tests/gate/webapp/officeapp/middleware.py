"""The app's own middleware: who the proxy says the user is, and a strict CSP."""
from django.contrib.auth.middleware import RemoteUserMiddleware


class ProxyRemoteUser(RemoteUserMiddleware):
    """`Remote-User`, as the reverse proxy sets it after Curfew's check. Without the header
    the user is signed out of the app (RemoteUserMiddleware's rule), so a session Curfew
    ended is over here too."""

    header = "HTTP_REMOTE_USER"


# Only this origin: no inline script or style, no other site. Curfew's banner lives on the
# same origin (/.curfew/), so it must work under this.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)


class ContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response
