from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Serve a signed-in user in the language they chose in their profile.

    Also gives the request's user a ``request_memo`` dict: selectors keep facts
    there that the same request would otherwise query several times.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        signed_in = bool(user and user.is_authenticated)
        if signed_in:
            # Facts about the user that one request asks for again and again
            # (the teams they head): kept for this request only.
            user.request_memo = {}  # type: ignore[union-attr]
        language = getattr(user, "language", "") if signed_in else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
