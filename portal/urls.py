from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import console_urls as accounts_console
from tickets import console_urls as tickets_console

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("readyz", views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("captcha/", include("captcha.urls")),
    path("admin/", admin.site.urls),
    path("requests/", include("tickets.urls")),
    # The tenant console: accounts' pages and tickets' list of the tenant's service requests, in one
    # namespace. Composed here, so that accounts never imports tickets.
    path("console/", include((accounts_console.urlpatterns + tickets_console.urlpatterns, accounts_console.app_name))),
    # The audio CAPTCHA of every public form; under /password-reset/, where it was first served.
    path("password-reset/captcha/", include("portal.captcha.urls")),
    path("password-reset/", include("accounts.reset_urls")),
    path("", include("accounts.urls")),
    path("", views.home, name="home"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
