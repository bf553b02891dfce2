"""kam: the ground floor (layer 0) of the project — settings, root urls, the Celery app, and what every app
shares: `kam.api` (error format, strict fields, permissions, ScopedViewSet), `kam.db` (ScopedQuerySet, the
visible_to choke point), `kam.form_helpers`, `kam.http`, `kam.pagination`, `kam.celery.enqueue_on_commit`, and the
registries the apps fill from their AppConfig.ready(): `kam.navigation` (menu) and `kam.home` (home panels).
It imports no app except in url modules; apps import it (README "Layout")."""

from kam.celery import app as celery_app

__all__ = ("celery_app",)
