from django.urls import path

from . import views

app_name = "captcha_audio"

urlpatterns = [
    path("<str:key>.wav", views.captcha_audio, name="wav"),
]
