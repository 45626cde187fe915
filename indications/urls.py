from django.urls import path

from . import api, editorial, openapi, patient_sheet, summary, views

app_name = "indications"

urlpatterns = [
    path("", views.intake, name="intake"),
    path("about", views.about, name="about"),
    path("changes", editorial.what_changed, name="what_changed"),
    path("summary/", summary.summary_page, name="summary"),
    path("summary.pdf", summary.summary_pdf, name="summary_pdf"),
    path("patient-sheet/", patient_sheet.patient_sheet_page, name="patient_sheet"),
    path("patient-sheet.pdf", patient_sheet.patient_sheet_pdf, name="patient_sheet_pdf"),
    path("api/v1/assess", api.assess_view, name="api_assess"),
    path("api/v1/summary.pdf", api.summary_pdf_view, name="api_summary_pdf"),
    path("api/v1/openapi.json", openapi.openapi_view, name="api_openapi"),
    path("healthz", views.healthz, name="healthz"),
    path("catalogue/", editorial.releases, name="releases"),
    path("catalogue/publish", editorial.publish, name="publish"),
    path("catalogue/preview", editorial.preview, name="preview"),
]
