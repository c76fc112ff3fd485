from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Membership, Tenant, TenantDomain, User


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


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("legal_name", "partner_id", "primary_domain", "country", "phone_on_record",
                    "self_service_reset_enabled")
    list_filter = ("country", "self_service_reset_enabled")
    search_fields = ("legal_name", "partner_id", "primary_domain", "other_domains__domain")
    inlines = [TenantDomainInline, MembershipInline]
    fieldsets = (
        (None, {"fields": ("legal_name", "partner_id", "country", "postal_address")}),
        (_("Contact on record"), {"fields": ("phone_on_record",)}),
        (_("Domains"), {"fields": ("primary_domain",)}),
        (_("Settings"), {"fields": ("self_service_reset_enabled",)}),
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
