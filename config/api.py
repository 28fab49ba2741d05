"""The API's shared pieces: the error handler and the token endpoint."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import User


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer a model's or a service's validation error as a 400 naming the fields."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail: Any = {
                (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
                for key, value in exc.message_dict.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class TokenRequestSerializer(AuthTokenSerializer):
    """A token request: the e-mail address (no longer than an address can be) and
    the password. A longer name would not fit the record of a failed login."""

    username = serializers.CharField(
        label=_("E-mail address"),
        write_only=True,
        # As the login form: the user model's own limit (an e-mail address has 254).
        max_length=getattr(User._meta.get_field(User.USERNAME_FIELD), "max_length", None) or 254,
    )


class ObtainAuthTokenView(ObtainAuthToken):
    serializer_class = TokenRequestSerializer


obtain_auth_token = ObtainAuthTokenView.as_view()
