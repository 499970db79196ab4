"""The project's URLs plus /bench/bare: a Django view that only answers 200, the limit the
Twilio webhook's ingest speed is measured against (same server, same middleware)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from schoolsms.urls import urlpatterns as project


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=200)


urlpatterns = [path("bench/bare", bare), *project]
