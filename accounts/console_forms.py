from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Membership, Tenant


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class ResetPasswordForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("How"),
        choices=[
            ("link", _("Email a reset link")),
            ("temporary", _("Show a temporary password once (must be changed at next sign-in)")),
        ],
        initial="link",
        widget=forms.RadioSelect,
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Work email"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)


class SettingsForm(forms.Form):
    self_service_reset_enabled = forms.BooleanField(label=_("Users may reset their own password"), required=False)
    self_service_reset_scope = forms.ChoiceField(
        label=_("Who may reset their own password"),
        choices=Tenant.ResetScope.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("With “selected users only”, choose them on the Users page."),
    )
    phone_on_record = forms.CharField(
        label=_("Phone number on record"),
        max_length=40,
        help_text=_("Support calls this number to verify requests about your company. Every admin is told when it changes."),
    )

    def clean_self_service_reset_scope(self):
        return self.cleaned_data.get("self_service_reset_scope") or Tenant.ResetScope.ALL
