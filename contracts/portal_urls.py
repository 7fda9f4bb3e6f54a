"""Filled by the contracts portal_urls work."""

urlpatterns = []
