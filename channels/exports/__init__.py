"""Exports of lists (CSV, XLSX) without a cap: small ones are answered in the request, large ones are prepared in
the background into a private file and offered to their requester alone, for a limited time.

Apps that own data register their export kinds here from `AppConfig.ready()` (channels never imports them): a
kind turns (user, parameters) into an `ExportSource` — the header, the rows as a queryset read in chunks, and how
one row becomes cells — and says whether the user may still export it (asked again at download).

- `channels.exports.writers`: CSV and XLSX written row by row (memory flat in the number of rows), every cell a
  spreadsheet would run as a formula escaped;
- `channels.exports.services`: decide small or large, start a job, run it, sweep lost jobs, expire files;
- `channels.exports.responses`: the immediate download of a small export (pages and API alike).
The job row is `channels.models.ExportJob`; its pages and API are channels.views and channels.api."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


class ExportRefused(Exception):
    """The user may not (or no longer) export this; pages and API answer 404, as for anything hidden."""


@dataclass(frozen=True)
class ExportSource:
    """What one export writes: `header` labels, then `cells(row)` for each row of `rows` (an ordered queryset
    with what the cells read already joined: it is read in chunks from a server-side cursor). `title` names the
    list to its requester; `file_stem` is the download's name without the extension."""

    header: list[str]
    rows: QuerySet
    cells: Callable[[Any], list]
    title: str
    file_stem: str
    sheet_title: str = ""  # the XLSX sheet's name (at most 31 characters)


@dataclass(frozen=True)
class ExportKind:
    slug: str
    label: str
    # (user, parameters) -> ExportSource; raises ExportRefused, or ValidationError for parameters that do not
    # (or no longer) apply. Called when the export is asked for and again when a job runs.
    source: Callable[[Any, dict], ExportSource]
    # (user, parameters) -> may the user still export this? Asked again at download (a cheap check).
    allowed: Callable[[Any, dict], bool]


_kinds: dict[str, ExportKind] = {}


def register_export_kind(
    slug: str, *, label: str, source: Callable[[Any, dict], ExportSource], allowed: Callable[[Any, dict], bool]
) -> None:
    _kinds[slug] = ExportKind(slug, label, source, allowed)


def export_kind(slug: str) -> ExportKind:
    """The registered kind; ExportRefused for one nobody registered (never a 500)."""
    try:
        return _kinds[slug]
    except KeyError:
        raise ExportRefused(slug) from None


def kind_label(slug: str) -> str:
    kind = _kinds.get(slug)
    return str(kind.label) if kind else slug
