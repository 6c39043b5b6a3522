from django.contrib import admin
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from guards.api import api


def healthz(request):
    """Bare liveness for load balancers (no database, no auth)."""
    return HttpResponse("ok", content_type="text/plain")


admin.site.site_header = admin.site.site_title = "Guard control plane"
admin.site.index_title = "Operations"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("dashboard.urls")),
]
