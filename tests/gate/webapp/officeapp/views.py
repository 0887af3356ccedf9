"""Views of the office app. Every page needs a signed-in user: without `Remote-User` the
app answers 403 (it has no sign-in of its own; the proxy sends people to Curfew's)."""
from django.conf import settings
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render

NOTES = []

IDENTITY = {
    "user": "HTTP_REMOTE_USER",
    "name": "HTTP_REMOTE_NAME",
    "email": "HTTP_REMOTE_EMAIL",
    "groups": "HTTP_REMOTE_GROUPS",
    "session": "HTTP_REMOTE_SESSION",
}


def banner_tag(request):
    return {"curfew_banner_tag": settings.BANNER_TAG}


def identity(request):
    return {key: request.META.get(meta) for key, meta in IDENTITY.items()}


def signed_in(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return HttpResponseForbidden("No user: this app is only reachable through its proxy.\n")
        return view(request, *args, **kwargs)

    return wrapped


@signed_in
def hello(request):
    return render(request, "hello.html", {"identity": identity(request)})


@signed_in
def notes(request):
    if request.method == "POST":
        text = request.POST.get("text", "").strip()[:200]
        if text:
            NOTES.append((request.user.username, text))
        return redirect("notes")
    mine = [text for (user, text) in NOTES if user == request.user.username]
    return render(request, "notes.html", {"notes": mine})


def whoami(request):
    """What the app received, for the tests (signed in or not)."""
    return JsonResponse(
        {"authenticated": request.user.is_authenticated, "username": request.user.get_username(), **identity(request)}
    )
