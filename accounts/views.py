from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import LanguageForm
from accounts.models import Team, User
from accounts.selectors import teams_headed_by


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a signed-in user keeps the choice."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if isinstance(request.user, User):
            request.user.language = language
            request.user.save(update_fields=["language"])
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """Teams a head manages (all teams for an administrator), with their people."""
    user = request.user
    if not user.is_head:  # type: ignore[union-attr]
        raise PermissionDenied
    teams = Team.objects.select_related("head", "parent").prefetch_related("members")
    if not user.is_admin:  # type: ignore[union-attr]
        teams = teams.filter(pk__in=teams_headed_by(user=user))  # type: ignore[arg-type]
    return render(request, "accounts/team_list.html", {"teams": teams})
