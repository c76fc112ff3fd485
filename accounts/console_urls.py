from django.urls import path

from .views import console

app_name = "console"

# The "Service requests" tab (console:service_requests) is tickets' page: see tickets/console_urls.py.

urlpatterns = [
    path("", console.home, name="home"),
    path("<int:tenant_id>/", console.dashboard, name="dashboard"),
    path("<int:tenant_id>/users/", console.users, name="users"),
    path("<int:tenant_id>/users/invite/", console.invite, name="invite"),
    path("<int:tenant_id>/users/<int:user_id>/role/", console.user_role, name="user_role"),
    path("<int:tenant_id>/users/<int:user_id>/deactivate/", console.user_deactivate, name="user_deactivate"),
    path("<int:tenant_id>/users/<int:user_id>/self-service-reset/", console.user_self_reset, name="user_self_reset"),
    path("<int:tenant_id>/users/<int:user_id>/unfreeze/", console.user_unfreeze, name="user_unfreeze"),
    path("<int:tenant_id>/users/<int:user_id>/reset-password/", console.user_reset_password, name="user_reset_password"),
    path("<int:tenant_id>/users/<int:user_id>/second-factor/", console.user_reenrol, name="user_reenrol"),
    path("<int:tenant_id>/settings/", console.tenant_settings, name="settings"),
    path("<int:tenant_id>/audit/", console.audit_log, name="audit"),
]
