"""Filled by the contracts backoffice_urls work."""

urlpatterns = []
