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


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = settings.KAM_LIST_COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        """Matching rows, counted up to cap + 1 (slicing makes Django wrap the count in a subquery). The order is
        dropped: any cap + 1 rows count the same, and a sort would make the database read every match first."""
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
