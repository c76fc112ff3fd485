from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from portal.clock import now

from .storage import private_storage


class Status(models.TextChoices):
    """The statuses of a service request. Transitions live in ``tickets.workflow``."""

    AWAITING_EMAIL_CONFIRMATION = "awaiting_email_confirmation", _("Awaiting email confirmation")
    NEW = "new", _("New")
    IN_REVIEW = "in_review", _("In review")
    WAITING_ON_REQUESTER = "waiting_on_requester", _("Waiting on requester")
    VERIFIED = "verified", _("Verified")
    ELEVATION_PROPOSED = "elevation_proposed", _("Elevation proposed")
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
        _("status"), max_length=32, choices=Status.choices,
        default=Status.AWAITING_EMAIL_CONFIRMATION, db_index=True, editable=False,
    )
    language = models.CharField(_("requester's language"), max_length=8, default="en")

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
    former_admin_reason = models.CharField(
        _("why they are gone"), max_length=24, choices=FormerAdminReason.choices, blank=True
    )
    former_admin_details = models.TextField(_("details"), blank=True)

    # Who should become global admin.
    elevate_email = models.EmailField(_("email of the user to make global admin"))
    elevate_name = models.CharField(_("their full name"), max_length=150)

    reason = models.TextField(_("reason for the request"))
    consent_given_at = models.DateTimeField(_("consent to checks given"), null=True, blank=True)

    tenant = models.ForeignKey(
        "accounts.Tenant", verbose_name=_("matched tenant"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="service_requests",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="assigned_service_requests",
    )
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, db_index=True)
    sla_alerted_at = models.DateTimeField(_("SLA alert sent"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)

    created_at = models.DateTimeField(_("filed"), default=now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=now)
    email_confirmed_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Secrets of the requester's links, hashed (sha256); raw values exist only in emails.
    confirmation_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    tracking_token_hash = models.CharField(max_length=64, blank=True, editable=False)

    submitted_ip = models.GenericIPAddressField(_("submitted from"), null=True, blank=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at"]
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
    message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to="evidence/%Y/%m/", storage=private_storage)
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
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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


class CheckOutcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NOT_POSSIBLE = "not_possible", _("Could not be done")


class VerificationCheck(models.Model):
    """One recorded verification step. The latest record of each kind counts."""

    service_request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("check"), max_length=32, choices=CheckKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=CheckOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
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
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="elevations",
        help_text=_("Set at approval: the existing user, or the new one created inactive."),
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), default=now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

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
