"""Keyset (cursor) pagination for every API list: no COUNT(*) and no OFFSET scans on big tables."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from kam.validators import parse_id


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        # A cursor is base64 the client can forge: its position must be an id (the ordering is by id), or the
        # filter on it fails in the database ("abc", "1e5") or cannot be bound (a 20-digit number on SQLite).
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and parse_id(cursor.position) is None:
            raise NotFound(self.invalid_cursor_message)
        return cursor
