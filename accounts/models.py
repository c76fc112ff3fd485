from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from portal.clock import now
from portal.timezones import validate_time_zone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("users need an email")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: tenant users and support staff. The email is the login."""

    class Language(models.TextChoices):
        EN = "en", _("English")
        FR = "fr", _("French")

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8, choices=Language.choices, default=Language.EN)
    # Times on the pages they read (and in the admin) are shown in this zone; stored in UTC.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        blank=True,
        validators=[validate_time_zone],
        help_text=_("For example Europe/Paris."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=now)

    # Recovery and sign-in protection.
    alternate_email = models.EmailField(_("alternate email for recovery"), blank=True)
    alternate_phone = models.CharField(_("alternate phone for recovery"), max_length=40, blank=True)
    # Wrong passwords since the last sign-in: at the ceiling (policy.SIGNIN_FAILURE_CEILING), sign-in is
    # refused from networks the account never signed in from (accounts.services.signin).
    failed_login_count = models.PositiveIntegerField(_("failed sign-ins in a row"), default=0)
    # An admin lifted the sign-in throttle then: the throttle's counters (in the cache) start again.
    signin_throttle_lifted_at = models.DateTimeField(_("sign-in throttle lifted"), null=True, blank=True)
    must_change_password = models.BooleanField(_("must change password at next sign-in"), default=False)
    frozen_at = models.DateTimeField(
        _("frozen"),
        null=True,
        blank=True,
        help_text=_("Set when the owner reports a change they did not make; an admin must unfreeze."),
    )

    reset_failed_codes = models.PositiveIntegerField(_("wrong reset codes in a row"), default=0)
    reset_blocked_until = models.DateTimeField(_("self-service reset blocked until"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name and f"{self.full_name} <{self.email}>" or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Tenant(models.Model):
    """A partner company: the record agents compare a service request against."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    partner_id = models.CharField(_("partner ID"), max_length=40, unique=True)
    primary_domain = models.CharField(_("primary domain"), max_length=253, unique=True)
    country = CountryField(_("country"))
    postal_address = models.TextField(_("postal address"))
    phone_on_record = models.CharField(
        _("phone number on record"),
        max_length=40,
        help_text=_("Agents call back this number, never one typed in a request."),
    )

    class ResetScope(models.TextChoices):
        ALL = "all", _("All users")
        SELECTED = "selected", _("Selected users only")

    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Support deactivates an organisation that leaves; nothing is deleted.")
    )
    self_service_reset_enabled = models.BooleanField(_("self-service password reset"), default=False)
    self_service_reset_scope = models.CharField(
        _("self-service reset for"), max_length=16, choices=ResetScope.choices, default=ResetScope.ALL
    )
    created_at = models.DateTimeField(_("created"), default=now)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["legal_name"]

    def __str__(self):
        return f"{self.legal_name} ({self.primary_domain})"

    @property
    def all_domains(self):
        return [self.primary_domain, *[d.domain for d in self.other_domains.all()]]


class TenantDomain(models.Model):
    """A verified domain of a tenant besides its primary one."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="other_domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)

    class Meta:
        verbose_name = _("verified domain")
        verbose_name_plural = _("other verified domains")

    def __str__(self):
        return self.domain


class Membership(models.Model):
    """A user's role in a tenant. Changed only through ``accounts.services.membership_set_role``."""

    class Role(models.TextChoices):
        GLOBAL_ADMIN = "global_admin", _("Global admin")
        USER_ADMIN = "user_admin", _("User admin")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    self_service_reset_allowed = models.BooleanField(
        _("may use self-service reset"),
        default=False,
        help_text=_("Used when the tenant allows self-service reset for selected users only."),
    )
    created_at = models.DateTimeField(_("created"), default=now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant")]
        indexes = [models.Index(fields=["tenant", "role"])]

    def __str__(self):
        return f"{self.user.email} — {self.get_role_display()} @ {self.tenant.primary_domain}"


class UserSession(models.Model):
    """A signed-in session of a user, so that "sign out everywhere else" can end the others."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self):
        return f"{self.user.email} {self.created_at:%Y-%m-%d %H:%M}"


class PasswordResetSession(models.Model):
    """One self-service reset attempt, 15 minutes long. Exists even for unknown user IDs."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveIntegerField(default=0)
    wrong_codes = models.PositiveIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    admins_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("password reset session")
        verbose_name_plural = _("password reset sessions")

    def __str__(self):
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"


class AccountFreezeLink(models.Model):
    """The "this wasn't me" link sent after a password reset: single use, freezes the account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # None: the link went to the account's own addresses. Otherwise the admin it went to, who may freeze
    # a global admin only while another active global admin remains (else support is alerted).
    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user.email} {self.created_at:%Y-%m-%d}"
