from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from audit.services import Actor, ActorKind, RequestMeta
from portal.refusals import refusal_shown

from .models import Membership, Tenant, TenantDomain, User
from .services.support import (
    tenant_deactivate_by_support,
    tenant_save_by_support,
    user_deactivate_by_support,
    user_password_set_by_support,
    user_save_by_support,
)


def _actor(request):
    return Actor(kind=ActorKind.STAFF, user=request.user, meta=RequestMeta.from_request(request))


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


class SavedByServiceAdmin(admin.ModelAdmin):
    """Saves go through ``save_service`` (accounts.services.support), which saves the object, lets
    the admin save its inlines and many-to-many fields, and writes the audit event: one transaction.

    Django calls ``save_model`` and then ``save_related``; the service is called from the second,
    where the inline formsets are at hand, and is given the admin's own ``save_related`` to call.
    """

    save_service = None  # the service, called as save_service(actor=, <model name>=obj, save_related=)
    deactivate_service = None  # the service, called as deactivate_service(actor=, <model name>=obj)
    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None):
        # Nobody is deleted: the audit log names them, and the "deactivate" action keeps the record.
        return False

    @admin.action(description=_("Deactivate the selected records"), permissions=["change"])
    def deactivate(self, request, queryset):
        done = 0
        for obj in queryset:
            with refusal_shown(request) as attempt:
                self.deactivate_service(actor=_actor(request), **{self.opts.model_name: obj})
            done += attempt.refused is None
        self.message_user(request, ngettext("%(count)d deactivated.", "%(count)d deactivated.", done) % {"count": done})

    def save_model(self, request, obj, form, change):
        pass  # saved in save_related, by the service, together with what relates to it

    def save_related(self, request, form, formsets, change):
        self.save_service(
            actor=_actor(request),
            **{self.opts.model_name: form.instance},
            save_related=partial(super().save_related, request, form, formsets, change),
        )


@admin.register(Tenant)
class TenantAdmin(SavedByServiceAdmin):
    list_display = (
        "legal_name",
        "partner_id",
        "primary_domain",
        "country",
        "phone_on_record",
        "self_service_reset_enabled",
        "is_active",
    )
    list_filter = ("is_active", "country", "self_service_reset_enabled")
    search_fields = ("legal_name", "partner_id", "primary_domain", "other_domains__domain")
    inlines = [TenantDomainInline, MembershipInline]
    save_service = staticmethod(tenant_save_by_support)
    deactivate_service = staticmethod(tenant_deactivate_by_support)
    readonly_fields = ("is_active",)

    fieldsets = (
        (None, {"fields": ("legal_name", "partner_id", "country", "postal_address")}),
        (_("Contact on record"), {"fields": ("phone_on_record",)}),
        (_("Domains"), {"fields": ("primary_domain",)}),
        (_("Settings"), {"fields": ("self_service_reset_enabled", "self_service_reset_scope", "is_active")}),
    )


@admin.register(User)
class UserAdmin(SavedByServiceAdmin, DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "preferred_language")
    list_filter = ("is_active", "is_staff", "groups")
    search_fields = ("email", "full_name")
    inlines = [UserMembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "phone", "preferred_language", "time_zone")}),
        (_("Recovery"), {"fields": ("alternate_email", "alternate_phone")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")
    save_service = staticmethod(user_save_by_support)
    deactivate_service = staticmethod(user_deactivate_by_support)

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        """Django's "change password" page, except that a submission Django would save is saved by
        ``user_password_set_by_support`` (password, audit event, sessions ended, email: one transaction).
        The page itself, form errors, refusals and permission checks are Django's."""
        form = self._password_form_to_save(request, id)
        if form is None:
            return super().user_change_password(request, id, form_url)
        usable = form.cleaned_data["set_usable_password"]
        user = user_password_set_by_support(
            actor=_actor(request), user=form.user, password=form.cleaned_data["password1"] if usable else None
        )
        self.log_change(request, user, self.construct_change_message(request, form, None))
        messages.success(
            request, gettext("Password changed successfully.") if usable else gettext("Password-based authentication was disabled.")
        )
        # No update_session_auth_hash: the service ends every session of the user, this one too
        # when support changed their own password.
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:accounts_user_change", args=[user.pk]))

    def _password_form_to_save(self, request, id):
        """The bound, valid password form of a POST that Django's view would save; None otherwise."""
        if request.method != "POST":
            return None
        user = self.get_object(request, unquote(id))
        if user is None or not self.has_change_permission(request, user):
            return None
        form = self.change_password_form(user, request.POST)
        # As in Django: turning password sign-in off needs the "unset-password" button itself.
        if not form.is_valid() or not (form.cleaned_data["set_usable_password"] or "unset-password" in request.POST):
            return None
        return form
