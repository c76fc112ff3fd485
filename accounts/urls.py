from django.urls import path

from .views import passwords, security, signin

app_name = "accounts"

urlpatterns = [
    path("login/", signin.signin, name="login"),
    path("login/verify/", signin.signin_verify, name="signin_verify"),
    path("login/enrol/", signin.signin_enrol, name="signin_enrol"),
    path("login/backup-codes/", signin.backup_codes, name="backup_codes"),
    path("logout/", signin.signout, name="logout"),
    path("account/security/", security.security, name="security"),
    path("account/security/authenticator/", security.security_enrol, name="security_enrol"),
    path("account/set-password/<uidb64>/<token>/", passwords.SetPasswordView.as_view(), name="set_password"),
    path("account/set-password/done/", passwords.SetPasswordDoneView.as_view(), name="set_password_done"),
]
