"""Keyset (cursor) pagination for every API list: no COUNT(*) and no OFFSET scans on big tables."""

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
