from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, RequestMeta

from .models import Membership, Tenant, TenantDomain, User
from .services.support import tenant_changed_by_support, user_changed_by_support, user_password_set_by_support

TENANT_FIELDS = (
    "legal_name",
    "partner_id",
    "primary_domain",
    "country",
    "postal_address",
    "phone_on_record",
    "self_service_reset_enabled",
    "self_service_reset_scope",
)
USER_ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser")


def _actor(request):
    return Actor(kind="staff", user=request.user, meta=RequestMeta.from_request(request))


def _tenant_state(tenant):
    if tenant.pk is None:
        return {}
    state = {f: str(getattr(tenant, f)) for f in TENANT_FIELDS}
    state["other_domains"] = sorted(tenant.other_domains.values_list("domain", flat=True))
    return state


def _user_state(user):
    if user.pk is None:
        return {}
    return {**{f: getattr(user, f) for f in USER_ACCESS_FIELDS}, "groups": sorted(user.groups.values_list("name", flat=True))}


class MembershipInline(admin.TabularInline):
    """Roles are shown, not edited here: a role changes only through accounts.services (audited)."""

    model = Membership
    fk_name = "tenant"
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class UserMembershipInline(MembershipInline):
    fk_name = "user"
    fields = ("tenant", "role", "created_at")
    readonly_fields = fields


class TenantDomainInline(admin.TabularInline):
    model = TenantDomain
    extra = 0


class AuditedByServiceAdmin(admin.ModelAdmin):
    """Snapshot ``audit_state`` before a save and hand before/after to ``audit_service``.

    The admin wraps each save in a transaction, so the audit event lands in the same one.
    """

    audit_state = None  # callable(obj) -> dict
    audit_service = None  # callable(actor=, obj=, before=, after=)

    def save_model(self, request, obj, form, change):
        request._audit_before = self.audit_state(self.model.objects.get(pk=obj.pk)) if obj.pk else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.audit_service(
            actor=_actor(request),
            obj=form.instance,
            before=getattr(request, "_audit_before", {}),
            after=self.audit_state(form.instance),
        )


@admin.register(Tenant)
class TenantAdmin(AuditedByServiceAdmin):
    list_display = ("legal_name", "partner_id", "primary_domain", "country", "phone_on_record", "self_service_reset_enabled")
    list_filter = ("country", "self_service_reset_enabled")
    search_fields = ("legal_name", "partner_id", "primary_domain", "other_domains__domain")
    inlines = [TenantDomainInline, MembershipInline]
    audit_state = staticmethod(_tenant_state)

    @staticmethod
    def audit_service(*, actor, obj, before, after):
        tenant_changed_by_support(actor=actor, tenant=obj, before=before, after=after)

    fieldsets = (
        (None, {"fields": ("legal_name", "partner_id", "country", "postal_address")}),
        (_("Contact on record"), {"fields": ("phone_on_record",)}),
        (_("Domains"), {"fields": ("primary_domain",)}),
        (_("Settings"), {"fields": ("self_service_reset_enabled", "self_service_reset_scope")}),
    )


@admin.register(User)
class UserAdmin(AuditedByServiceAdmin, DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "preferred_language")
    list_filter = ("is_active", "is_staff", "groups")
    search_fields = ("email", "full_name")
    inlines = [UserMembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "phone", "preferred_language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user_password_set_by_support(actor=_actor(request), user=User.objects.get(pk=id))
        return response

    audit_state = staticmethod(_user_state)

    @staticmethod
    def audit_service(*, actor, obj, before, after):
        user_changed_by_support(actor=actor, user=obj, before=before, after=after)
