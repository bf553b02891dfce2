"""Keyset (cursor) pagination for every API list: no COUNT(*) and no OFFSET scans on big tables."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

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
