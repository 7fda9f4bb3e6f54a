"""URLs of the indexation api face (filled in by indexation's views)."""

urlpatterns: list = []
