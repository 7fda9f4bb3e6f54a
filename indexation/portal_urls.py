"""URLs of the indexation portal face (filled in by indexation's views)."""

urlpatterns: list = []
