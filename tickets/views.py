"""Public pages for requesters: thin, they parse input, call one service and render."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage, is_ratelimited

from audit.services import RequestMeta
from portal import timezones
from portal.refusals import refusal_shown
from portal.uploads import body_refused
from portal.views import upload_too_large

from . import link_cookies, selectors, services
from .dns_proof import record_name
from .forms import ObjectionForm, ServiceRequestForm, TrackingLinkForm, TrackingReplyForm
from .models import Category, CheckKind, Status
from .policy import CHECKABLE, OPEN

SUBMIT_GROUP = "tickets.submit"
PREFILL = ("company_legal_name", "company_domain", "company_country", "requester_email")


def _submit_quota_used(request) -> bool:
    """A quick look, without counting: this client's filings this hour have reached the limit."""
    usage = get_usage(request, group=SUBMIT_GROUP, key="ip", rate=settings.SERVICE_REQUEST_RATE, method="POST")
    return usage is not None and usage["count"] >= usage["limit"]


def _submit_slot_taken(request) -> bool:
    """Count this filing now, atomically (an increment in the shared cache), before it is made: of many
    simultaneous filings from one client, only as many as the limit get a slot. True: no slot left."""
    usage = get_usage(request, group=SUBMIT_GROUP, key="ip", rate=settings.SERVICE_REQUEST_RATE, method="POST", increment=True)
    return usage is not None and usage["should_limit"]


def request_start(request):
    return render(request, "tickets/request_start.html", {"categories": Category.choices})


@require_http_methods(["GET", "POST"])
def request_new(request, category):
    if category not in Category.values:
        raise Http404
    if request.method == "POST":
        if body_refused(request):
            return upload_too_large(request)
        if _submit_quota_used(request):
            return render(request, "tickets/rate_limited.html", status=429)
        form = ServiceRequestForm(request.POST, request.FILES, category=category)
        if form.is_valid():
            # Only a valid filing counts (a typo in the CAPTCHA costs nothing), and it counts before it is made.
            if _submit_slot_taken(request):
                return render(request, "tickets/rate_limited.html", status=429)
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("evidence", "consent", "captcha")}
            sr = services.service_request_submit(
                data={**data, "category": category},
                uploads=form.cleaned_data["evidence"],
                language=get_language() or "en",
                meta=RequestMeta.from_request(request),
            )
            request.session["submitted_reference"] = sr.reference
            return redirect("tickets:submitted")
    else:
        # A link may fill in the company's details (the password-reset page does not: it names no company).
        prefill = {k: request.GET[k][:200] for k in PREFILL if request.GET.get(k)}
        form = ServiceRequestForm(category=category, initial=prefill)
    had_files = request.method == "POST" and bool(request.FILES.getlist("evidence"))
    return render(
        request,
        "tickets/request_form.html",
        {
            "form": form,
            "category": Category(category),
            "reupload": had_files and not form.is_valid(),
        },
    )


def request_submitted(request):
    reference = request.session.get("submitted_reference")
    if not reference:
        return redirect("tickets:start")
    return render(request, "tickets/request_submitted.html", {"reference": reference})


@require_http_methods(["GET", "POST"])
def request_confirm(request, reference):
    path = request.path
    if link_cookies.wants_exchange(request):  # from the email: keep the token out of the address bar
        return link_cookies.exchange("confirm", path, request.GET["token"])
    token = link_cookies.token_from(request, "confirm", path)
    if request.method == "POST":
        with refusal_shown() as attempt:
            sr, raw = services.service_request_confirm_email(
                reference=reference, token=token or "", meta=RequestMeta.from_request(request)
            )
        if isinstance(attempt.refused, services.AlreadyConfirmed):
            return render(request, "tickets/request_already_confirmed.html", {"reference": reference.upper()})
        if attempt.refused:
            return render(request, "tickets/link_invalid.html", {"message": attempt.refused.message}, status=400)
        messages.success(request, _("Thank you: your email is confirmed and your request is in our queue."))
        track = reverse("tickets:track", args=[sr.reference])
        response = link_cookies.with_link_cookie(redirect(track), "track", track, raw)
        return link_cookies.forget(response, "confirm", path)
    if services.service_request_confirmation_used(reference=reference, token=token):
        return render(request, "tickets/request_already_confirmed.html", {"reference": reference.upper()})
    # A GET only shows a button: mail scanners that follow links must not confirm anything.
    return render(request, "tickets/request_confirm.html", {"reference": reference})


def _back_to_page(request, token):
    """After a POST, back to the clean tracking page; a token that came in the form goes into the cookie."""
    return link_cookies.with_link_cookie(redirect(request.path), "track", request.path, token)


def _tracked_or_404(reference, token):
    sr = services.service_request_for_token(reference=reference, token=token)
    if sr is None:
        raise Http404
    return sr


@require_http_methods(["GET", "POST"])
def request_track(request, reference):
    if link_cookies.wants_exchange(request):  # from the email: a cookie for this request's pages, then the clean URL
        _tracked_or_404(reference, request.GET["token"])
        return link_cookies.exchange("track", request.path, request.GET["token"])
    token = link_cookies.token_from(request, "track", request.path)
    sr = _tracked_or_404(reference, token)
    timezones.activate(sr.time_zone)  # the requester's browser zone when they filed, or UTC
    reply_form = TrackingReplyForm()
    meta = RequestMeta.from_request(request)
    if request.method == "POST" and body_refused(request):
        return upload_too_large(request)
    if request.method == "POST":
        with refusal_shown(request) as attempt:
            if request.POST.get("action") == "dns_look_up":
                if is_ratelimited(request, group="tickets.dns", key="ip", rate="20/h", method="POST", increment=True):
                    return render(request, "tickets/rate_limited.html", status=429)
                lookup = services.service_request_check_domain(service_request=sr, meta=meta)
                if CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr):
                    messages.success(request, _("We found your DNS record."))
                elif lookup.found(sr.dns_challenge):  # e.g. the domain is not the one on the company's record
                    messages.warning(
                        request, _("We found the value, but it cannot count as proof for this request. Support will look into it.")
                    )
                else:
                    messages.warning(
                        request,
                        _(
                            "We did not find the value yet. DNS changes can take a while "
                            "to appear; we also look again every few minutes."
                        ),
                    )
                return _back_to_page(request, token)
            if request.POST.get("action") == "cancel" and request.POST.get("confirm") != "yes":
                messages.error(request, _("Tick the box to confirm that you want to cancel the request."))
                return _back_to_page(request, token)
            if request.POST.get("action") == "cancel":
                services.service_request_cancel(service_request=sr, meta=meta)
                messages.success(request, _("Your request is cancelled."))
                return _back_to_page(request, token)
            reply_form = TrackingReplyForm(request.POST, request.FILES)
            if reply_form.is_valid():
                services.service_request_requester_reply(
                    service_request=sr,
                    body=reply_form.cleaned_data["body"],
                    uploads=reply_form.cleaned_data["evidence"],
                    meta=meta,
                )
                messages.success(request, _("Your reply has been sent to the support team."))
                return _back_to_page(request, token)
        if attempt.refused:
            sr.refresh_from_db()
    passed = selectors.passed_kinds(sr)
    return render(
        request,
        "tickets/request_track.html",
        {
            "sr": sr,
            "timeline": selectors.public_timeline(sr),
            "evidence": sr.evidence.all(),
            "reader_zone": timezones.clean_zone(sr.time_zone) or "UTC",
            "reply_form": reply_form,
            "can_reply": selectors.requester_can_reply(sr),
            "can_cancel": sr.status in OPEN,
            "elevation": getattr(sr, "elevation", None) if sr.status == Status.COOLING_OFF else None,
            "reply_reopens": sr.status in (Status.VERIFIED, Status.ELEVATION_PROPOSED),
            "dns_name": record_name(sr.company_domain),
            "dns_pending": sr.status in CHECKABLE and CheckKind.DOMAIN_DNS not in passed and bool(sr.dns_challenge),
            "dns_passed": CheckKind.DOMAIN_DNS in passed,
        },
    )


@require_http_methods(["GET", "POST"])
def request_access(request):
    """Lost your private link? Get a fresh one by email (same answer whether or not it matches)."""
    if request.method == "POST":
        form = TrackingLinkForm(request.POST)
        if is_ratelimited(request, group="tickets.access", key="ip", rate="10/h", method="POST", increment=True):
            return render(request, "tickets/rate_limited.html", status=429)
        if form.is_valid():
            services.tracking_link_requested(
                reference=form.cleaned_data["reference"], email=form.cleaned_data["email"], meta=RequestMeta.from_request(request)
            )
            return render(request, "tickets/request_access_sent.html")
    else:
        form = TrackingLinkForm(initial={"reference": request.GET.get("reference", "")})
    return render(request, "tickets/request_access.html", {"form": form})


@require_http_methods(["GET", "POST"])
def request_object(request):
    """The single-purpose link emailed to the people who can stop a request: a GET shows the request and a
    button (mail scanners that follow links must not put requests on hold); the POST objects."""
    if link_cookies.wants_exchange(request) and services.objection_link_for(request.GET["token"]) is not None:
        return link_cookies.exchange("object", request.path, request.GET["token"])
    token = link_cookies.token_from(request, "object", request.path)
    link = services.objection_link_for(token)
    if link is None:
        return render(
            request,
            "tickets/link_invalid.html",
            {"message": _("This link is not valid: the request it was about may have closed.")},
            status=404,
        )
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if is_ratelimited(request, group="tickets.object", key="ip", rate="30/h", method="POST", increment=True):
            return render(request, "tickets/rate_limited.html", status=429)
        with refusal_shown() as attempt:
            services.objection_raise(
                raw_token=token or "", message=form.cleaned_data["message"], meta=RequestMeta.from_request(request)
            )
        if attempt.refused:
            return render(request, "tickets/link_invalid.html", {"message": attempt.refused.message}, status=404)
        done = render(request, "tickets/objection_done.html", {"sr": link.service_request})
        return link_cookies.forget(done, "object", request.path)
    sr = link.service_request
    return render(
        request,
        "tickets/objection.html",
        {
            "link": link,
            "sr": sr,
            "form": form,
            "elevation": getattr(sr, "elevation", None),
        },
    )
