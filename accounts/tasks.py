"""Celery tasks of accounts: thin wrappers, safe to run twice."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from accounts import services


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def email_send(*, subject: str, body: str, to: list[str], html_body: str | None = None) -> None:
    """Send one e-mail off the request path; the mail server may be slow or down."""
    services.email_send(subject=subject, body=body, to=to, html_body=html_body)


@shared_task
def sessions_clear() -> None:
    """Delete expired sessions (Django's own clean-up, run by beat)."""
    services.sessions_clear()


@shared_task
def login_failures_forget() -> int:
    """Delete failed-login records older than the lockout cool-off."""
    return services.login_failures_forget()
