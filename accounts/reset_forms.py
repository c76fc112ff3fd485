from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from portal.captcha.fields import audio_captcha_field


class AccountTypeForm(forms.Form):
    account_type = forms.ChoiceField(
        label=_("Which type of account?"),
        widget=forms.RadioSelect,
        choices=[("work", _("Work or school account")), ("personal", _("Personal account"))],
    )


class UserIdForm(forms.Form):
    email = forms.EmailField(label=_("User ID"), help_text=_("Your work email, for example name@company.com"))
    captcha = audio_captcha_field(_("Enter the characters in the picture, or the characters you hear"))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your alternate email"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        required=False,
        help_text=_("Needed if you set up an authenticator app, and always for administrators."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class NewPasswordForm(forms.Form):
    new_password1 = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("Confirm new password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_new_password2(self):

        p1, p2 = self.cleaned_data.get("new_password1"), self.cleaned_data["new_password2"]
        if p1 and p1 != p2:
            raise forms.ValidationError(_("The two passwords are not the same."))
        password_validation.validate_password(p2, self.user)
        return p2
