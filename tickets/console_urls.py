"""Tickets' pages under /console/, in the "console" namespace (see portal/urls.py)."""

from django.urls import path

from . import console_views

urlpatterns = [
    path("<int:tenant_id>/requests/", console_views.service_requests, name="service_requests"),
]
