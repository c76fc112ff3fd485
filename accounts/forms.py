from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _


class EmailAuthenticationForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")


class InitialPasswordForm(SetPasswordForm):
    """Set the first password; the account is activated by ``accounts.services``."""

    def save(self, commit=True):
        from audit.services import Actor

        from .services import user_set_initial_password

        return user_set_initial_password(
            user=self.user, password=self.cleaned_data["new_password1"], actor=Actor(kind="user", user=self.user)
        )
