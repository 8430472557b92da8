from django.contrib import admin
from django.urls import include, path

from web import views

urlpatterns = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
    path("api/", include("web.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
