from django.shortcuts import redirect


def index(request):
    """Until the dashboard lands (SPEC §6), the front page is the admin."""
    return redirect("admin:index")
