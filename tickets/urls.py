from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("new/", views.request_start, name="start"),
    path("new/<slug:category>/", views.request_new, name="new"),
    path("submitted/", views.request_submitted, name="submitted"),
    path("access/", views.request_access, name="access"),
    path("object/", views.request_object, name="object"),
    path("<slug:reference>/confirm/", views.request_confirm, name="confirm"),
    path("<slug:reference>/", views.request_track, name="track"),
]
