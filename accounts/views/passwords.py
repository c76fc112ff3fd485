from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from audit.services import RequestMeta

from ..forms import InitialPasswordForm


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The single-use link in the "you are now global admin" email: Django's token dies with the password."""

    template_name = "accounts/set_password.html"
    form_class = InitialPasswordForm
    success_url = reverse_lazy("accounts:set_password_done")
    post_reset_login = False

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "meta": RequestMeta.from_request(self.request)}


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/set_password_done.html"
