"""Filled by the contracts api_urls work."""

urlpatterns = []
