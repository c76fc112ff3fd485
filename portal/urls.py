from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.admin_site import configure_admin_site

from . import views

configure_admin_site()

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("captcha/", include("captcha.urls")),
    path("admin/", admin.site.urls),
    path("requests/", include("tickets.urls")),
    path("console/", include("accounts.console_urls")),
    # The audio CAPTCHA of every public form; under /password-reset/, where it was first served.
    path("password-reset/captcha/", include("portal.captcha.urls")),
    path("password-reset/", include("accounts.reset_urls")),
    path("", include("accounts.urls")),
    path("", views.home, name="home"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
