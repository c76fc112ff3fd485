"""Tickets' page in the tenant console: the service requests filed about the tenant.

The console itself (sign-in, role check, tabs) belongs to accounts; this page lives here because it
reads tickets' models, and accounts must not import tickets. portal/urls.py mounts it in the console.
"""

from django.shortcuts import render

from accounts.views.console import tenant_admin

from .models import ServiceRequest


@tenant_admin
def service_requests(request):
    requests_ = ServiceRequest.objects.filter(tenant=request.tenant).order_by("-created_at")
    context = {
        "tenant": request.tenant,
        "tenant_role": request.tenant_role,
        "is_global_admin": request.is_global_admin,
        "service_requests": requests_,
    }
    return render(request, "tickets/console/service_requests.html", context)
