"""The agents' queue and request page, in the OTP-protected Django admin."""

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from audit.presentation import present_events
from audit.selectors import audit_events_for
from audit.services import Actor, ActorKind, RequestMeta
from portal.clock import now
from portal.refusals import refusal_shown

from . import selectors, services
from .admin_forms import ACTION_FORMS, LinkRequestsForm
from .countries import country_names
from .dns_proof import record_name
from .models import Elevation, Evidence, ServiceRequest, Status
from .policy import CHECKABLE, CLOSED, OPEN, SLA_RUNNING, waiting_minimum, waiting_period
from .workflow import SUPERVISOR, allowed_targets

# A reference as people read it out, in any case (tickets.tokens.new_reference).
REFERENCE = re.compile(r"^SR-[0-9A-Z]{4}-[0-9A-Z]{4}$", re.IGNORECASE)


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


class CountryFilter(admin.SimpleListFilter):
    """The countries requests were filed for, as one drop-down with a button (works without JavaScript).

    The field's own filter lists all 250 as links: a page of links nobody can scan or tap, and 10-20 ms of
    rendering per queue page. The options are written in Python; the codes come from a cached selector.
    """

    title = _("country")
    parameter_name = "company_country"
    template = "admin/tickets/servicerequest/country_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        # The other filters and the search stay as they are when a country is chosen (not the page number).
        self.kept_params = [(k, v) for k, v in request.GET.items() if k not in (self.parameter_name, "p")]

    def lookups(self, request, model_admin):
        names = country_names()
        present = selectors.countries_with_requests()
        return sorted(((code, names.get(code, code)) for code in present), key=lambda item: item[1])

    def options_html(self):
        chosen = self.value() or ""
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((code, mark_safe(" selected") if code == chosen else "", name) for code, name in self.lookup_choices),
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(company_country=self.value())
        return queryset


def _actor(request) -> Actor:
    return Actor(kind=ActorKind.STAFF, user=request.user, meta=RequestMeta.from_request(request))


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "status_badge",
        "company_legal_name",
        "company_domain",
        "country",
        "age",
        "sla_due",
        "assignee",
    )
    list_filter = ("status", OverdueFilter, AssigneeFilter, "category", CountryFilter)

    class Media:
        css = {"all": ("tickets/admin-queue.css",)}  # filter links big enough to tap (WCAG 2.5.8)

    # The columns an agent searches by, each with a trigram index (migration 0008): the reference, the company's
    # name and domain, the requester's address. Joined tables (the matched tenant) would force a scan of every row.
    search_fields = ("reference", "company_legal_name", "company_domain", "requester_email")
    search_help_text = _("Reference, company name, domain or the requester's email address.")
    list_select_related = ("assignee", "tenant")
    list_per_page = 50
    # One COUNT(*) per page, not a second one of the whole table for "N of M".
    show_full_result_count = False
    ordering = ("sla_due_at", "-created_at")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        # Status(...).label, not get_status_display(), which rebuilds the field's flat choices for every row.
        return format_html('<span class="sr-status sr-status-{}">{}</span>', obj.status, Status(obj.status).label)

    @admin.display(description=_("country"), ordering="company_country")
    def country(self, obj):
        # The country's name, looked up by its code (annotated by get_queryset): the admin's default for a field with
        # choices rebuilds and normalises the ~250 countries twice for every row (about 60% of the queue page's CPU).
        return country_names().get(obj.country_code) or obj.country_code or self.get_empty_value_display()

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at, now())

    @admin.display(description=_("SLA due"), ordering="sla_due_at")
    def sla_due(self, obj):
        if obj.sla_due_at is None:
            return "—"
        stamp = localtime(obj.sla_due_at).strftime("%Y-%m-%d %H:%M")  # in the agent's zone (User.time_zone)
        if obj.status in SLA_RUNNING and obj.sla_due_at < now():
            return format_html('<strong class="sr-overdue" style="color:#b00">⚠ {} ({})</strong>', stamp, _("overdue"))
        return stamp

    def get_search_results(self, request, queryset, search_term):
        if REFERENCE.match(search_term.strip()):
            # A whole reference names one request: its unique index finds it, no trigram scan needed.
            return queryset.filter(reference=search_term.strip().upper()), False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(country_code=F("company_country"))
        # The queue shows the work still to do: confirmed requests that are not closed (elevated, rejected,
        # cancelled, expired). The status filter shows any of the others, and a search finds them all.
        if (
            request.resolver_match
            and request.resolver_match.url_name.endswith("changelist")
            and "status__exact" not in request.GET
            and "q" not in request.GET
        ):
            queryset = queryset.exclude(status__in=[Status.AWAITING_EMAIL_CONFIRMATION, *CLOSED])
        return queryset

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/evidence/<int:evidence_id>/",
                self.admin_site.admin_view(self.evidence_view),
                name="tickets_servicerequest_evidence",
            ),
            path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="tickets_servicerequest_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, pk):
        """A supervisor downloads one request as JSON, for a data access request (audited)."""
        if request.method != "POST":
            raise Http404
        sr = get_object_or_404(ServiceRequest, pk=pk)
        with refusal_shown(request) as attempt:
            data = services.service_request_export(service_request=sr, actor=_actor(request))
        if attempt.refused:
            raise PermissionDenied
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="{sr.reference}.json"'
        response["Cache-Control"] = "private, no-store"
        return response

    def evidence_view(self, request, pk, evidence_id):
        if not request.user.has_perm("tickets.open_evidence"):
            raise PermissionDenied
        evidence = get_object_or_404(Evidence, pk=evidence_id, service_request_id=pk)
        if not evidence.file:  # purged after the retention period: only its hash and size remain
            raise Http404
        handle = evidence.file.open("rb")  # first: a store that fails records no viewing that did not happen
        services.evidence_open(evidence=evidence, actor=_actor(request))
        response = FileResponse(handle, content_type=evidence.content_type, filename=evidence.original_name, as_attachment=False)
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
            if action in ACTIONS:
                form = self._form(action, sr, data=request.POST)
                if form is None or form.is_valid():
                    with refusal_shown(request) as attempt:
                        ACTIONS[action][0](sr, _actor(request), form.cleaned_data if form else {})
                    if not attempt.refused:
                        messages.success(request, ACTIONS[action][1])
                        return HttpResponseRedirect(request.path)
                    if form is not None:
                        bound[action] = form  # keep what was typed
                else:
                    bound[action] = form
                    messages.error(request, _("Please correct the errors below."))
        return TemplateResponse(request, "tickets/admin/service_request.html", self._page_context(request, sr, bound))

    def _form(self, action, sr, data=None, initial=None):
        form_class = ACTION_FORMS.get(action)
        if form_class is None:
            return None
        if form_class is LinkRequestsForm:
            return LinkRequestsForm(data, prefix=action, initial=initial, concurrent=selectors.unlinked_concurrent(sr))
        return form_class(data, prefix=action, initial=initial)

    def _page_context(self, request, sr, bound):
        role = selectors.staff_role(request.user)
        elevation = (
            Elevation.objects.filter(service_request=sr).select_related("proposed_by", "approved_by", "user", "shortened_by").first()
        )
        suggested = selectors.suggested_tenant(sr)
        initial = {
            "match_tenant": {"tenant": suggested.pk} if suggested else {},
            "propose_elevation": {"email": sr.elevate_email, "full_name": sr.elevate_name},
            "approve_elevation": {"elevation_id": elevation.pk, "email": elevation.email} if elevation else {},
        }
        forms = {
            name: bound.get(name) or self._form(name, sr, initial=initial.get(name, {}))
            for name, form_class in ACTION_FORMS.items()
            if form_class is not None
        }
        is_supervisor = role == SUPERVISOR
        deciders = {elevation.proposed_by_id, elevation.approved_by_id} if elevation else set()
        blockers = list(selectors.blocking_admins(suggested))
        concurrent = list(selectors.concurrent_requests(sr))
        linked = selectors.linked_pairs(sr)
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{sr.reference} — {sr.company_legal_name}",
            "sr": sr,
            "role": role,
            "is_supervisor": is_supervisor,
            "is_overdue": bool(sr.sla_due_at and sr.sla_due_at < now() and sr.status in SLA_RUNNING),
            "suggested_tenant": suggested,
            "comparison": selectors.comparison(sr),
            "global_admins": selectors.global_admin_facts(sr, suggested),
            "blockers": blockers,
            "former_admin_account": selectors.former_admin_account(sr, suggested) if suggested else None,
            "checklist": selectors.checklist(sr),
            "proof": selectors.proof(sr),
            "dns_name": record_name(sr.company_domain),
            "objections": sr.objections.select_related("resolved_by", "link"),
            "concurrent": [{"request": r, "linked": r.pk in linked} for r in concurrent],
            "messages_thread": sr.messages.select_related("author").prefetch_related("attachments"),
            "evidence": sr.evidence.all(),
            "events": present_events(audit_events_for(sr)[:50]),
            "elevation": elevation,
            "targets": allowed_targets(sr.status, role) if role else [],
            "is_open": sr.status in OPEN,
            "can_assign": bool(role)
            and sr.status in OPEN
            and sr.assignee_id != request.user.pk
            and sr.status != Status.AWAITING_EMAIL_CONFIRMATION,
            "can_record_check": bool(role) and sr.status in CHECKABLE,
            "can_look_up_dns": bool(role) and sr.status in CHECKABLE and bool(sr.dns_challenge),
            "forms": forms,
            "Status": Status,
            "can_approve": is_supervisor and elevation is not None and elevation.proposed_by_id != request.user.pk,
            "can_send_back": is_supervisor and sr.status in (Status.ELEVATION_PROPOSED, Status.COOLING_OFF),
            "can_shorten": is_supervisor and sr.status == Status.COOLING_OFF,
            "can_override": is_supervisor and sr.status in OPEN and bool(blockers) and not sr.admin_block_override_at,
            "can_resolve": is_supervisor and sr.status == Status.DISPUTED and request.user.pk not in deciders,
            "can_link": is_supervisor and sr.status in OPEN and any(r.pk not in linked for r in concurrent),
            "waiting_minimum": waiting_minimum(sr),
            "waiting_period": waiting_period(sr),
        }


def _approve(sr, actor, data):
    services.elevation_approve(service_request=sr, actor=actor, elevation_id=data["elevation_id"], email=data["email"])


# action -> (what it does, with the request, the actor and the form's cleaned data; the message on success)
ACTIONS = {
    "assign": (
        lambda sr, actor, data: services.service_request_assign(service_request=sr, actor=actor),
        _("The request is assigned to you."),
    ),
    "match_tenant": (
        lambda sr, actor, data: services.service_request_match_tenant(service_request=sr, tenant=data["tenant"], actor=actor),
        _("Tenant matched."),
    ),
    "message": (
        lambda sr, actor, data: services.service_request_post_message(
            service_request=sr, actor=actor, kind=data["kind"], body=data["body"]
        ),
        _("Message added."),
    ),
    "ask_information": (
        lambda sr, actor, data: services.service_request_ask_information(service_request=sr, actor=actor, body=data["body"]),
        _("The requester has been asked for information."),
    ),
    "record_check": (
        lambda sr, actor, data: services.verification_check_record(
            service_request=sr, actor=actor, kind=data["kind"], outcome=data["outcome"], note=data["note"]
        ),
        _("Check recorded."),
    ),
    "dns_look_up": (
        lambda sr, actor, data: services.domain_proof_look_up(service_request=sr, actor=actor),
        _("DNS looked up: the answer is shown under the domain proof."),
    ),
    "reject": (
        lambda sr, actor, data: services.service_request_reject(service_request=sr, actor=actor, reason=data["reason"]),
        _("The request is rejected."),
    ),
    "propose_elevation": (
        lambda sr, actor, data: services.elevation_propose(
            service_request=sr, actor=actor, email=data["email"], full_name=data["full_name"], note=data["note"]
        ),
        _("Elevation proposed; a supervisor must approve it."),
    ),
    "approve_elevation": (
        _approve,
        _("Elevation approved: it takes effect after the waiting period, unless someone objects. Everyone concerned has been told."),
    ),
    "send_back": (
        lambda sr, actor, data: services.elevation_send_back(service_request=sr, actor=actor, note=data["note"]),
        _("The proposal went back to review."),
    ),
    "shorten_waiting": (
        lambda sr, actor, data: services.elevation_shorten_waiting(
            service_request=sr, actor=actor, minutes=data["minutes"], reason=data["reason"]
        ),
        _("The waiting period is shortened; everyone concerned has been told the new time."),
    ),
    "override_block": (
        lambda sr, actor, data: services.admin_block_override(service_request=sr, actor=actor, reason=data["reason"]),
        _("Override recorded: the waiting period after approval will be doubled."),
    ),
    "resolve_objection": (
        lambda sr, actor, data: services.objection_resolve(
            service_request=sr, actor=actor, decision=data["decision"], reason=data["reason"]
        ),
        _("The objection is resolved; the objector has been told."),
    ),
    "link_requests": (
        lambda sr, actor, data: services.service_requests_link(
            service_request=sr, other=data["other"], actor=actor, reason=data["reason"]
        ),
        _("The requests are linked."),
    ),
}
