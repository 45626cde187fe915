from django.urls import path

from . import views

app_name = "cds_hooks"

urlpatterns = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/<str:service_id>", views.service, name="service"),
    path("cds-services/<str:service_id>/feedback", views.feedback, name="feedback"),
]
