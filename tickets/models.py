from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from portal.clock import now
from portal.timezones import validate_time_zone

from .storage import evidence_storage


class Status(models.TextChoices):
    """The statuses of a service request. Transitions live in ``tickets.workflow``."""

    AWAITING_EMAIL_CONFIRMATION = "awaiting_email_confirmation", _("Awaiting email confirmation")
    NEW = "new", _("New")
    IN_REVIEW = "in_review", _("In review")
    WAITING_ON_REQUESTER = "waiting_on_requester", _("Waiting on requester")
    VERIFIED = "verified", _("Verified")
    ELEVATION_PROPOSED = "elevation_proposed", _("Elevation proposed")
    # Approved by a second person; takes effect when the waiting period ends with no objection.
    COOLING_OFF = "cooling_off", _("Approved, waiting period")
    # Someone told of the request objected: nothing moves until an independent supervisor decides.
    DISPUTED = "disputed", _("Disputed, on hold")
    ELEVATED = "elevated", _("Elevated")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Category(models.TextChoices):
    ADMIN_LEFT = "admin_left", _("Our global admin has left")
    OTHER_ACCESS = "other_access", _("Another access problem")


class FormerAdminReason(models.TextChoices):
    LEFT_COMPANY = "left_company", _("Left the company")
    CHANGED_ROLE = "changed_role", _("Moved to another role")
    UNREACHABLE = "unreachable", _("Cannot be reached")
    OTHER = "other", _("Other")


class ServiceRequest(models.Model):
    """A request to restore admin access to a tenant, as filed by a requester."""

    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=Status.choices,
        default=Status.AWAITING_EMAIL_CONFIRMATION,
        db_index=True,
        editable=False,
    )
    language = models.CharField(_("requester's language"), max_length=8, default="en")
    # The requester's browser zone when they filed (for the tracking page's times); "" means UTC.
    time_zone = models.CharField(_("requester's time zone"), max_length=64, blank=True, validators=[validate_time_zone])

    # The company as filed.
    company_legal_name = models.CharField(_("company legal name"), max_length=200)
    company_partner_id = models.CharField(_("partner ID"), max_length=40, blank=True)
    company_domain = models.CharField(_("company domain"), max_length=253)
    company_country = CountryField(_("country"))
    company_address = models.TextField(_("company postal address"))
    company_phone = models.CharField(_("company phone"), max_length=40)

    # The requester.
    requester_name = models.CharField(_("your full name"), max_length=150)
    requester_email = models.EmailField(_("your work email"))
    requester_phone = models.CharField(_("your phone"), max_length=40)
    requester_job_title = models.CharField(_("your job title"), max_length=120)

    # The former global admin.
    former_admin_name = models.CharField(_("former admin's name"), max_length=150, blank=True)
    former_admin_email = models.EmailField(_("former admin's email"), blank=True)
    former_admin_reason = models.CharField(_("why they are gone"), max_length=24, choices=FormerAdminReason.choices, blank=True)
    former_admin_details = models.TextField(_("details"), blank=True)

    # Who should become global admin.
    elevate_email = models.EmailField(_("email of the user to make global admin"))
    elevate_name = models.CharField(_("their full name"), max_length=150)

    reason = models.TextField(_("reason for the request"))
    consent_given_at = models.DateTimeField(_("consent to checks given"), null=True, blank=True)

    tenant = models.ForeignKey(
        "accounts.Tenant",
        verbose_name=_("matched tenant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_service_requests",
    )
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, db_index=True)
    sla_alerted_at = models.DateTimeField(_("SLA alert sent"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)

    created_at = models.DateTimeField(_("filed"), default=now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=now)
    email_confirmed_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    personal_data_purged_at = models.DateTimeField(_("personal data purged"), null=True, blank=True, editable=False)

    # Secrets of the requester's links, hashed (sha256); raw values exist only in emails.
    confirmation_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    tracking_token_hash = models.CharField(max_length=64, blank=True, editable=False)

    submitted_ip = models.GenericIPAddressField(_("submitted from"), null=True, blank=True)

    # Domain proof: the value the requester publishes at _escalation-portal.<domain> (not a secret:
    # it is meant to be public in DNS; it is shown only on the private tracking page).
    dns_challenge = models.CharField(_("DNS proof value"), max_length=80, blank=True, editable=False)
    dns_checked_at = models.DateTimeField(_("DNS last looked up"), null=True, blank=True, editable=False)
    dns_answer = models.TextField(_("DNS resolver's last answer"), blank=True, editable=False)

    # A supervisor's recorded decision to go on although an active global admin signed in recently.
    admin_block_override_reason = models.TextField(_("reason to override the active-admin block"), blank=True, editable=False)
    admin_block_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    admin_block_override_at = models.DateTimeField(_("active-admin block overridden"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company_domain", "status"])]
        permissions = [
            ("work_servicerequest", _("Can work service requests (agent)")),
            ("approve_elevation", _("Can approve elevations (supervisor)")),
            ("open_evidence", _("Can open evidence files")),
        ]

    def __str__(self):
        return f"{self.reference} — {self.company_legal_name}"


class Evidence(models.Model):
    """A file the requester attached. Stored outside public URLs; served by a staff-only view."""

    service_request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="evidence")
    message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to="evidence/%Y/%m/", storage=evidence_storage)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("uploaded"), default=now)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["created_at"]

    def __str__(self):
        return self.original_name


class Message(models.Model):
    """One entry in a request's thread: a public reply (seen by the requester) or an internal note."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public reply")
        INTERNAL = "internal", _("Internal note")

    service_request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_requester = models.BooleanField(default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent"), default=now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class CheckKind(models.TextChoices):
    EMAIL_CONFIRMED = "email_confirmed", _("Work email confirmed")
    IDENTITY_EVIDENCE = "identity_evidence", _("Identity evidence reviewed")
    CALLBACK_ON_RECORD = "callback_on_record", _("Call-back made to the phone number on the tenant record")
    COMPANY_DETAILS = "company_details", _("Company details match the record")
    FORMER_ADMIN_GONE = "former_admin_gone", _("Former admin confirmed gone")
    DOMAIN_DNS = "domain_dns", _("Domain proven by a DNS TXT record")


class CheckOutcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NOT_POSSIBLE = "not_possible", _("Could not be done")
    # Written by the system when what a check relied on changed (new evidence, proposal sent back).
    VOIDED = "voided", _("Voided: to be made again")


class VerificationCheck(models.Model):
    """One recorded verification step. The latest record of each kind counts."""

    service_request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("check"), max_length=32, choices=CheckKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=CheckOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), default=now)

    class Meta:
        verbose_name = _("verification check")
        verbose_name_plural = _("verification checks")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class Elevation(models.Model):
    """The proposal to make one user global admin of the request's tenant, and its approval."""

    service_request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, related_name="elevation")
    email = models.EmailField(_("user to elevate"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    # Proposing someone other than the user the requester named is flagged and needs a note.
    differs_from_request = models.BooleanField(_("not the user the requester named"), default=False)
    note = models.TextField(_("proposer's note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="elevations",
        help_text=_("Set at approval: the existing user, or the new one created inactive."),
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), default=now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    # The waiting period after approval: it starts at approval (or when a dispute is resolved).
    waiting_started_at = models.DateTimeField(_("waiting period started"), null=True, blank=True)
    effective_at = models.DateTimeField(_("takes effect"), null=True, blank=True, db_index=True)
    shortened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shortened_reason = models.TextField(_("why the waiting period was shortened"), blank=True)
    completed_at = models.DateTimeField(_("took effect"), null=True, blank=True)

    class Meta:
        verbose_name = _("elevation")
        verbose_name_plural = _("elevations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("proposed_by")),
                name="elevation_two_person_rule",
            )
        ]

    def __str__(self):
        return f"{self.email} ({self.service_request.reference})"


class ObjectionLink(models.Model):
    """A single-purpose link emailed to someone who can stop a request: it only raises an objection.

    Random, stored as a SHA-256 digest, valid while the request is open. One per recipient and email.
    """

    class Why(models.TextChoices):
        GLOBAL_ADMIN = "global_admin", _("Active global admin")
        FORMER_ADMIN = "former_admin", _("Former admin named in the request")
        PROPOSED_USER = "proposed_user", _("User proposed as global admin")

    service_request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="objection_links")
    tenant = models.ForeignKey("accounts.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(_("sent to"))
    why = models.CharField(_("why told"), max_length=16, choices=Why.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    outbox_message = models.ForeignKey(
        "notifications.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("sent"), default=now)

    class Meta:
        verbose_name = _("objection link")
        verbose_name_plural = _("objection links")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.email} ({self.service_request.reference})"


class Objection(models.Model):
    """Someone told of a request said "stop": the request is on hold until a supervisor decides."""

    class Resolution(models.TextChoices):
        REJECT = "reject", _("Upheld: the request is rejected")
        CONTINUE = "continue", _("Dismissed: the request continues, with a new waiting period")
        WITHDRAWN = "withdrawn", _("The requester cancelled the request")

    service_request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="objections")
    link = models.ForeignKey(ObjectionLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The link's recipient, or "system" when the portal itself put the request on hold.
    raised_by = models.CharField(_("raised by"), max_length=254)
    message = models.TextField(_("message"), blank=True)
    ip_address = models.GenericIPAddressField(_("from"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised"), default=now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField(_("decision"), max_length=16, choices=Resolution.choices, blank=True)
    resolution_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["service_request", "resolved_at"])]

    def __str__(self):
        return f"{self.raised_by} ({self.service_request.reference})"


class RequestLink(models.Model):
    """A supervisor's decision that two concurrent requests for one tenant may go on side by side.

    Stored once per pair, the lower id first.
    """

    first = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("linked"), default=now)

    class Meta:
        verbose_name = _("linked requests")
        verbose_name_plural = _("linked requests")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="request_link_unique_pair"),
            models.CheckConstraint(condition=models.Q(first__lt=models.F("second")), name="request_link_ordered"),
        ]

    def __str__(self):
        return f"{self.first_id} ↔ {self.second_id}"
