"""Department exchange API routes (filled by their owner; included by web/api/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
