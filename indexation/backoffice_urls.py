"""URLs of the indexation backoffice face (filled in by indexation's views)."""

urlpatterns: list = []
