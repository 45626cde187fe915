from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Memantine decision support: catalogue"
admin.site.site_title = "Memantine catalogue admin"
admin.site.index_title = "Curate the catalogue"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("cds_hooks.urls")),
    path("", include("indications.urls")),
]

# Error answers: a short page, or JSON on API paths; a database outage is a 503 (decision_support/errors.py).
handler400 = "decision_support.errors.bad_request"
handler403 = "decision_support.errors.permission_denied"
handler404 = "decision_support.errors.page_not_found"
handler500 = "decision_support.errors.server_error"
