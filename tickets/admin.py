"""The agents' queue and request page, in the OTP-protected Django admin."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from audit.selectors import audit_events_for
from audit.services import Actor, RequestMeta
from portal.clock import now

from . import selectors, services
from .admin_forms import ACTION_FORMS
from .models import Elevation, Evidence, ServiceRequest, Status
from .services.agents import CHECKABLE
from .workflow import OPEN, SLA_RUNNING, DomainError, allowed_targets


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.overdue_q())
        if self.value() == "no":
            return queryset.exclude(selectors.overdue_q())
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Assigned to me")), ("none", _("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


def _actor(request) -> Actor:
    return Actor(kind="staff", user=request.user, meta=RequestMeta.from_request(request))


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "status_badge", "company_legal_name", "company_domain", "company_country",
                    "age", "sla_due", "assignee")
    list_filter = ("status", OverdueFilter, AssigneeFilter, "category", "company_country")
    search_fields = ("reference", "requester_email", "elevate_email", "company_legal_name", "company_domain",
                     "tenant__legal_name", "tenant__partner_id")
    list_select_related = ("assignee", "tenant")
    list_per_page = 50
    ordering = ("sla_due_at", "-created_at")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="sr-status sr-status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at, now())

    @admin.display(description=_("SLA due"), ordering="sla_due_at")
    def sla_due(self, obj):
        if obj.sla_due_at is None:
            return "—"
        stamp = obj.sla_due_at.strftime("%Y-%m-%d %H:%M")
        if obj.status in SLA_RUNNING and obj.sla_due_at < now():
            return format_html('<strong class="sr-overdue" style="color:#b00">⚠ {} ({})</strong>', stamp, _("overdue"))
        return stamp

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # Only confirmed requests are in the queue, unless the agent filters on a status explicitly.
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist") \
                and "status__exact" not in request.GET and "q" not in request.GET:
            queryset = queryset.exclude(status__in=[Status.AWAITING_EMAIL_CONFIRMATION, Status.EXPIRED])
        return queryset

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/evidence/<int:evidence_id>/", self.admin_site.admin_view(self.evidence_view),
                 name="tickets_servicerequest_evidence"),
            *super().get_urls(),
        ]

    def evidence_view(self, request, pk, evidence_id):
        if not request.user.has_perm("tickets.open_evidence"):
            raise PermissionDenied
        evidence = get_object_or_404(Evidence, pk=evidence_id, service_request_id=pk)
        services.evidence_open(evidence=evidence, actor=_actor(request))
        response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type,
                                filename=evidence.original_name, as_attachment=False)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
        response["Cache-Control"] = "private, no-store"
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404
        sr = get_object_or_404(ServiceRequest.objects.select_related("tenant", "assignee"), pk=object_id)
        if not self.has_view_permission(request, sr):
            raise PermissionDenied
        bound = {}
        if request.method == "POST":
            action = request.POST.get("action")
            if action in ACTION_FORMS:
                form_class = ACTION_FORMS[action]
                form = form_class(request.POST, prefix=action) if form_class else None
                if form is None or form.is_valid():
                    try:
                        self._perform(request, sr, action, form.cleaned_data if form else {})
                    except DomainError as exc:
                        messages.error(request, exc.message)
                    else:
                        return HttpResponseRedirect(request.path)
                else:
                    bound[action] = form
                    messages.error(request, _("Please correct the errors below."))
        return TemplateResponse(request, "tickets/admin/service_request.html",
                                self._page_context(request, sr, bound))

    def _perform(self, request, sr, action, data):
        actor = _actor(request)
        if action == "assign":
            services.service_request_assign(service_request=sr, actor=actor)
            messages.success(request, _("The request is assigned to you."))
        elif action == "match_tenant":
            services.service_request_match_tenant(service_request=sr, tenant=data["tenant"], actor=actor)
            messages.success(request, _("Tenant matched."))
        elif action == "message":
            services.service_request_post_message(service_request=sr, actor=actor, kind=data["kind"], body=data["body"])
            messages.success(request, _("Message added."))
        elif action == "ask_information":
            services.service_request_ask_information(service_request=sr, actor=actor, body=data["body"])
            messages.success(request, _("The requester has been asked for information."))
        elif action == "record_check":
            services.verification_check_record(service_request=sr, actor=actor, kind=data["kind"],
                                               outcome=data["outcome"], note=data["note"])
            messages.success(request, _("Check recorded."))
        elif action == "reject":
            services.service_request_reject(service_request=sr, actor=actor, reason=data["reason"])
            messages.success(request, _("The request is rejected."))
        elif action == "propose_elevation":
            services.elevation_propose(service_request=sr, actor=actor, email=data["email"],
                                       full_name=data["full_name"])
            messages.success(request, _("Elevation proposed; a supervisor must approve it."))
        elif action == "approve_elevation":
            services.elevation_approve(service_request=sr, actor=actor)
            messages.success(request, _("Elevation approved; the new global admin has been notified."))
        elif action == "send_back":
            services.elevation_send_back(service_request=sr, actor=actor, note=data["note"])
            messages.success(request, _("The proposal went back to review."))

    def _page_context(self, request, sr, bound):
        role = selectors.staff_role(request.user)
        forms = {}
        for name, form_class in ACTION_FORMS.items():
            if form_class is None:
                continue
            initial = {}
            if name == "match_tenant":
                suggested = selectors.suggested_tenant(sr)
                initial = {"tenant": suggested.pk} if suggested else {}
            if name == "propose_elevation":
                initial = {"email": sr.elevate_email, "full_name": sr.elevate_name}
            forms[name] = bound.get(name) or form_class(prefix=name, initial=initial)
        elevation = Elevation.objects.filter(service_request=sr).select_related("proposed_by", "approved_by", "user").first()
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{sr.reference} — {sr.company_legal_name}",
            "sr": sr,
            "role": role,
            "is_overdue": bool(sr.sla_due_at and sr.sla_due_at < now() and sr.status in SLA_RUNNING),
            "suggested_tenant": selectors.suggested_tenant(sr),
            "comparison": selectors.comparison(sr),
            "checklist": selectors.checklist(sr),
            "messages_thread": sr.messages.select_related("author").prefetch_related("attachments"),
            "evidence": sr.evidence.all(),
            "events": audit_events_for(sr)[:50],
            "elevation": elevation,
            "targets": allowed_targets(sr.status, role) if role else [],
            "is_open": sr.status in OPEN,
            "can_assign": bool(role) and sr.status in OPEN and sr.assignee_id != request.user.pk
            and sr.status != Status.AWAITING_EMAIL_CONFIRMATION,
            "can_record_check": bool(role) and sr.status in CHECKABLE,
            "forms": forms,
            "Status": Status,
            "can_approve": role == "supervisor" and elevation is not None and elevation.proposed_by_id != request.user.pk,
        }
