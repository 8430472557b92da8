"""Pages (filled by their owner; included by web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
