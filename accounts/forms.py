from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device

from audit.services import Actor, ActorKind

from .services import second_factor_verify, user_set_initial_password


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class ReauthForm(forms.Form):
    """Every security change asks for the password and, if the user has one, a second-factor code."""

    current_password = forms.CharField(
        label=_("Your current password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    token = forms.CharField(label=_("Code from your authenticator app or a backup code"), max_length=32, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

        self.needs_token = user_has_device(user)
        if not self.needs_token:
            del self.fields["token"]
        else:
            self.fields["token"].required = True

    def clean(self):
        cleaned = super().clean()
        if "current_password" in cleaned and not self.user.check_password(cleaned["current_password"]):
            self.add_error("current_password", _("This is not your current password."))
        elif self.needs_token and cleaned.get("token") and not self.errors:
            # Only once everything else is valid, so that a refused change does not use up the code.

            self.device = second_factor_verify(user=self.user, token=cleaned["token"])
            if self.device is None:
                self.add_error("token", _("That code is not right, or it was already used."))
        return cleaned


class ChangePasswordForm(ReauthForm):
    new_password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_new_password(self):

        password = self.cleaned_data["new_password"]
        password_validation.validate_password(password, self.user)
        return password


class RecoveryForm(ReauthForm):
    alternate_email = forms.EmailField(
        label=_("Alternate email"), required=False, help_text=_("Not your work address: we send reset codes here.")
    )
    alternate_phone = forms.CharField(label=_("Alternate phone"), required=False, max_length=40)

    field_order = ["alternate_email", "alternate_phone", "current_password", "token"]

    def clean_alternate_email(self):
        email = self.cleaned_data["alternate_email"].strip().lower()
        if email and email == self.user.email.lower():
            raise forms.ValidationError(_("Use an address other than your sign-in email."))
        return email


class InitialPasswordForm(SetPasswordForm):
    """Set the first password; the account is activated by ``accounts.services``."""

    def __init__(self, *args, meta=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.meta = meta

    def save(self, commit=True):

        return user_set_initial_password(
            user=self.user,
            password=self.cleaned_data["new_password1"],
            actor=Actor(kind=ActorKind.USER, user=self.user, meta=self.meta),
        )
