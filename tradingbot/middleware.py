"""Every API answer is JSON: Django's own 404/405/500 pages become the API's error shape."""

from http import HTTPStatus

from django.http import JsonResponse

API_PREFIX = "/api/"


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
        json_response = JsonResponse(body, status=response.status_code)
        if allow := response.get("Allow"):
            json_response["Allow"] = allow
        return json_response
