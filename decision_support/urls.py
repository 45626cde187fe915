from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Memantine decision support: catalogue"
admin.site.site_title = "Memantine catalogue admin"
admin.site.index_title = "Curate the catalogue"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("indications.urls")),
]
