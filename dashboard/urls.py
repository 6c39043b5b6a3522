from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("health/", views.data_health, name="health"),
    path("panels/<slug:name>/", views.panel, name="panel"),
]
