"""The API plumbing every app's `api/` uses: `errors` (one error format and its schema fragments), `fields`
(strict input fields), `permissions` (PERMISSIONS), `viewsets` (ScopedViewSet, `validated`), `pagination`
(keyset) and `urls` (the /api/v1/ root that includes each app's api/urls.py)."""
