"""Every API answer is JSON: Django's own 404/405/500 pages become the API's error shape."""

from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse

API_PREFIX = "/api/"


def _too_big(request) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    return length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class ApiJsonErrors:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        phrase = HTTPStatus(response.status_code).phrase.lower()
        body = {"error": f"{request.method} {request.path}: {phrase}", "field": None, "detail": []}
        if response.status_code == 400 and _too_big(request):
            limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_048_576
            body |= {"error": f"body: larger than {limit_mb:.1f} MB", "field": "body"}
        json_response = JsonResponse(body, status=response.status_code)
        if allow := response.get("Allow"):
            json_response["Allow"] = allow
        return json_response
