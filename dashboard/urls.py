from django.urls import path

from dashboard import views, views_audit, views_whatif

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("health/", views.data_health, name="health"),
    path("panels/<slug:name>/", views.panel, name="panel"),
    path("audit/", views_audit.audit_trail, name="audit"),
    path("audit/decisions/<int:evaluation_id>/", views_audit.decision, name="audit-decision"),
    path("audit/<slug:name>/", views_audit.audit_panel, name="audit-panel"),
    path("what-if/", views_whatif.what_if, name="what-if"),
    path("what-if/propose/", views_whatif.propose, name="what-if-propose"),
]
