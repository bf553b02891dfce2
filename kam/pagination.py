"""A page-number paginator for server-rendered lists that never counts a whole big table.

`COUNT(*)` costs about 10 ms per 100k rows (DESIGN.md, Performance), so the count stops at
settings.KAM_LIST_COUNT_CAP + 1 rows (`SELECT COUNT(*) FROM (... LIMIT cap+1)`), the page shows
"1000+", and only the pages inside the cap can be browsed: beyond it the user narrows the filters.
"""

from functools import cached_property

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _


class Tiered:
    """The rows of several querysets one after another, paged as one list: a search's exact matches, then
    its prefix matches, then the rest, each in its queryset's order. `whole` is all of them as one
    queryset (for counting); `rows` is the queryset a page's objects are read from (its select_related).

    A slice asks each tier it reads from for ids only, stopping at the slice's end (no joins, narrow rows:
    whatever the plan, the database sorts ids), past the first page with one bounded count per tier it
    skips, then reads the page's rows in one query. Never a sort of every match, which an ORDER BY over a
    computed rank would be. CappedPaginator and KeysetPagination page it."""

    ordered = True  # for Paginator's unordered-list warning

    def __init__(self, tiers, *, whole, rows):
        self.tiers, self.whole, self.rows = list(tiers), whole, rows

    def capped_count(self, cap: int) -> int:
        # Which cap + 1 rows are counted does not change the figure: without an ORDER BY the database may
        # stop at the first cap + 1 it finds, through whichever index suits the filter.
        return self.whole.order_by()[: cap + 1].count()

    def count(self) -> int:
        return self.whole.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        for tier in self.tiers:
            yield from tier

    def fetch(self, ids: list) -> list:
        """The objects of `ids`, in that order, in one query."""
        if not ids:
            return []
        found = {row.pk: row for row in self.rows.filter(pk__in=ids).order_by()}
        return [found[pk] for pk in ids if pk in found]

    def __getitem__(self, key):
        if isinstance(key, int):
            if key < 0:
                raise IndexError("negative index")
            rows = self[key : key + 1]
            if not rows:
                raise IndexError(key)
            return rows[0]
        if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop is not None and key.stop < 0):
            raise ValueError("Tiered supports plain non-negative slices")
        skip, wanted = key.start or 0, None if key.stop is None else key.stop - (key.start or 0)
        ids = []
        for tier in self.tiers:
            if wanted is not None and len(ids) >= wanted:
                break
            end = None if wanted is None else skip + wanted - len(ids)
            chunk = list(tier.values_list("pk", flat=True)[skip:end])
            if not chunk and skip:
                skip -= tier[:skip].count()  # the slice starts past this tier: how much of the skip it used
                continue
            ids.extend(chunk)
            skip = 0
        return self.fetch(ids)


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = settings.KAM_LIST_COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        """Matching rows, counted up to cap + 1 (slicing makes Django wrap the count in a subquery)."""
        if isinstance(self.object_list, Tiered):
            return self.object_list.capped_count(self.cap)
        # The order is dropped: any cap + 1 rows count the same, and a sort would make the database read every
        # match first.
        rows = self.object_list
        if isinstance(rows, QuerySet):
            rows = rows.order_by()
        return rows[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @property
    def count_display(self) -> str:
        return f"{self.cap}+" if self.is_capped else str(self.count)

    @cached_property
    def num_pages(self) -> int:
        # Pages past the cap are not offered: an OFFSET that deep scans as much as the count would.
        return super().num_pages if not self.is_capped else -(-self.cap // self.per_page)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.is_capped:
                raise EmptyPage(
                    _("Only the first %(cap)s results can be browsed. Narrow the search or the filters.")
                    % {"cap": self.cap}
                ) from None
            raise


def page_of(request, queryset, per_page: int, *, param: str = "page"):
    """(paginator, page, message) for a list page: a bad number shows page 1; a number past the end or
    the cap gives no page and the paginator's message."""
    paginator = CappedPaginator(queryset, per_page)
    try:
        return paginator, paginator.page(request.GET.get(param) or 1), ""
    except PageNotAnInteger:
        return paginator, paginator.page(1), ""
    except EmptyPage as exc:
        return paginator, None, str(exc)
