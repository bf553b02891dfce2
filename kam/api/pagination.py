"""Keyset (cursor) pagination for every API list: no COUNT(*) and no OFFSET scans on big tables."""

import binascii
import json
from base64 import b64decode, b64encode
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, Expression, F, Value
from django.db.models.functions import Cast
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

from kam.db import key_then_id
from kam.pagination import Tiered
from kam.validators import parse_id


class KeysetPagination(CursorPagination):
    """Newest first by id. A kam.pagination.Tiered list (a search's best matches first) is paged tier by
    tier with a cursor position "tier.id", each tier newest first: a page reads at most page_size + 1 rows
    per tier it touches, however many rows match."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
    tiered = False

    def decode_cursor(self, request):
        # A cursor is base64 the client can forge: its position must be an id (the ordering is by id), or the
        # filter on it fails in the database ("abc", "1e5") or cannot be bound (a 20-digit number on SQLite).
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            valid = self._tier_position(cursor.position) if self.tiered else parse_id(cursor.position)
            if valid is None:
                raise NotFound(self.invalid_cursor_message)
        return cursor

    def paginate_queryset(self, queryset, request, view=None):
        if isinstance(queryset, Tiered):
            return self._paginate_tiers(queryset, request)
        return super().paginate_queryset(queryset, request, view)

    def get_next_link(self):
        if not self.tiered:
            return super().get_next_link()
        return self._link(reverse=False, position=self.next_position) if self.has_next else None

    def get_previous_link(self):
        if not self.tiered:
            return super().get_previous_link()
        return self._link(reverse=True, position=self.previous_position) if self.has_previous else None

    # --- tiers -----------------------------------------------------------------------------------------

    @staticmethod
    def _tier_position(position: str) -> tuple[int, int] | None:
        tier, _dot, pk = position.partition(".")
        if len(tier) != 1 or not tier.isdigit() or parse_id(pk) is None:
            return None
        return int(tier), parse_id(pk)

    def _link(self, *, reverse: bool, position: str) -> str:
        return self.encode_cursor(Cursor(offset=0, reverse=reverse, position=position))

    def _paginate_tiers(self, tiered: Tiered, request):
        self.tiered = True
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        reverse = bool(self.cursor and self.cursor.reverse)
        here = self._tier_position(self.cursor.position) if self.cursor and self.cursor.position else None
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        field = ordering.lstrip("-")
        descending = ordering.startswith("-") != reverse  # the direction this request reads in
        order, beyond = (f"-{field}", f"{field}__lt") if descending else (field, f"{field}__gt")

        tiers = list(enumerate(tiered.tiers))
        keys: list[tuple[int, int]] = []  # (tier, id) of the page's rows, then one more if there is one
        for number, queryset in reversed(tiers) if reverse else tiers:
            if here and (number > here[0] if reverse else number < here[0]):
                continue  # before the cursor's tier in this direction
            queryset = queryset.order_by(order)
            if here and number == here[0]:
                queryset = queryset.filter(**{beyond: here[1]})
            ids = queryset.values_list(field, flat=True)[: self.page_size + 1 - len(keys)]
            keys.extend((number, pk) for pk in ids)
            if len(keys) > self.page_size:
                break
        more = len(keys) > self.page_size
        keys = keys[: self.page_size]
        if reverse:
            keys.reverse()
        self.page = tiered.fetch([pk for _number, pk in keys])

        current = self.cursor.position if self.cursor else None
        first = f"{keys[0][0]}.{keys[0][1]}" if keys else current
        last = f"{keys[-1][0]}.{keys[-1][1]}" if keys else current
        self.has_next = more if not reverse else current is not None
        self.has_previous = more if reverse else current is not None
        self.next_position, self.previous_position = last, first
        self.display_page_controls = self.has_next or self.has_previous
        return self.page


class RowCompare(Expression):
    """`(a, b) < (x, y)` — a row comparison, which a b-tree index on (a, b) answers as a range start: the
    keyset of a sorted list (a page after the cursor costs the same at any depth)."""

    output_field = BooleanField()

    def __init__(self, left, operator: str, right):
        super().__init__()
        self.left, self.operator, self.right = list(left), operator, list(right)

    def get_source_expressions(self):
        return [*self.left, *self.right]

    def set_source_expressions(self, expressions):
        self.left, self.right = expressions[: len(self.left)], expressions[len(self.left) :]

    def as_sql(self, compiler, connection):
        sides, params = [], []
        for side in (self.left, self.right):
            parts = []
            for expression in side:
                sql, part_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(part_params)
            sides.append(f"({', '.join(parts)})")
        return f"{sides[0]} {self.operator} {sides[1]}", params


class SortedKeysetPagination(KeysetPagination):
    """Keyset pagination that also follows a sort chosen with `?ordering=<key>` / `-<key>` among the view's
    `keyset_sorts` ({key: expression}, each served by an index on (expression, id)): rows are ordered by
    (key, id) in one direction, and the cursor holds the last row's (key, id), so every page, however deep, is
    an index range read. Sorted lists page forwards (`next`); `previous` is given for the default order only."""

    ordering_param = "ordering"

    def paginate_queryset(self, queryset, request, view=None):
        sorts = getattr(view, "keyset_sorts", {})
        key = request.query_params.get(self.ordering_param, "")
        if key.lstrip("-") not in sorts:
            self.sorted_key = None
            return super().paginate_queryset(queryset, request, view)
        self.sorted_key, self.request = key, request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        expression, descending = sorts[key.lstrip("-")], key.startswith("-")
        queryset = queryset.annotate(_sort_key=expression)
        field = queryset.query.annotations["_sort_key"].output_field
        position = self._sorted_position(request, field)
        if position is not None:
            # Cast: the expression has no type affinity on SQLite, where a bare decimal parameter is text.
            value = Cast(Value(position[0]), output_field=field)
            queryset = queryset.filter(
                RowCompare([expression, F("id")], "<" if descending else ">", [value, Value(position[1])])
            )
        rows = list(queryset.order_by(*key_then_id(expression, descending=descending))[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        return self.page

    def _sorted_position(self, request, field):
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            value, pk = json.loads(b64decode(encoded.encode("ascii"), validate=True))
            value = field.to_python(value)
            if isinstance(value, str) and len(value) > 200:
                raise ValueError
        except (ValueError, TypeError, binascii.Error, DjangoValidationError):
            raise NotFound(self.invalid_cursor_message) from None
        if parse_id(pk) is None:
            raise NotFound(self.invalid_cursor_message)
        return value, int(pk)

    def get_next_link(self):
        if getattr(self, "sorted_key", None) is None:
            return super().get_next_link()
        if not self.has_next:
            return None
        last = self.page[-1]
        value = last._sort_key
        token = json.dumps([str(value) if isinstance(value, Decimal) else value, last.pk])
        return replace_query_param(self.base_url, self.cursor_query_param, b64encode(token.encode()).decode("ascii"))

    def get_previous_link(self):
        if getattr(self, "sorted_key", None) is not None:
            return None
        return super().get_previous_link()
