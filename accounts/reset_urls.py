from django.urls import path

from .views import reset

app_name = "reset"

urlpatterns = [
    path("", reset.start, name="start"),
    path("work/", reset.user_id, name="user_id"),
    path("verify/", reset.verify, name="verify"),
    path("new-password/", reset.new_password, name="new_password"),
    path("not-me/", reset.freeze, name="freeze"),
]
