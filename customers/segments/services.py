"""Segment writes (services): create, update, copy, freeze (a fixed member list for campaigns), delete, and
the monthly snapshots behind the movement report. Each checks customers.policy (owner only; sharing for
supervisors, analysts and admins) and validates the definition through customers.segments.criteria."""

import logging
from datetime import date

from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels.models import User
from customers.models import Customer, Segment, SegmentMember, SegmentSnapshot
from customers.policy import may_change_segment, may_share_segments, may_use_segments
from customers.segments.criteria import apply_definition, clean_definition
from customers.segments.selectors import previous_month, segment_members

logger = logging.getLogger(__name__)


def _require_owner(segment: Segment, by: User) -> None:
    if not may_change_segment(by, segment):
        raise PermissionDenied(_("Only the owner may change this segment."))


def _require_live(segment: Segment) -> None:
    if segment.is_frozen:
        raise ValidationError(_("A frozen segment cannot be changed; copy it to make a new one."))


def _validate_fields(*, owner: User, name: str, is_shared: bool, exclude_pk: int | None = None) -> str:
    name = " ".join((name or "").split())
    errors = {}
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > Segment._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long (at most 100 characters).")]
    elif Segment.objects.filter(owner=owner, name=name).exclude(pk=exclude_pk).exists():
        errors["name"] = [_("You already have a segment with this name.")]
    if is_shared and not may_share_segments(owner):
        errors["is_shared"] = [_("Only supervisors, analysts and administrators may share segments.")]
    if errors:
        raise ValidationError(errors)
    return name


def _save(segment: Segment) -> Segment:
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:  # a concurrent save took the name first
        raise ValidationError({"name": [_("You already have a segment with this name.")]}) from None
    return segment


def segment_create(
    *, owner: User, name: str, definition: dict, description: str = "", is_shared: bool = False
) -> Segment:
    if not may_use_segments(owner):
        raise PermissionDenied(_("Your role does not use segments."))
    definition = clean_definition(definition, user=owner)
    name = _validate_fields(owner=owner, name=name, is_shared=is_shared)
    segment = Segment(owner=owner, name=name, description=description or "", is_shared=is_shared, definition=definition)
    return _save(segment)


def segment_update(*, segment: Segment, by: User, **fields) -> Segment:
    """Change the name, description, sharing or definition (fields left out stay). Owner only; a frozen
    segment is immutable."""
    _require_owner(segment, by)
    _require_live(segment)
    unknown = set(fields) - {"name", "description", "is_shared", "definition"}
    if unknown:
        raise ValidationError({key: [_("This field cannot be changed.")] for key in sorted(unknown)})
    definition = clean_definition(fields["definition"], user=by) if "definition" in fields else segment.definition
    is_shared = fields.get("is_shared", segment.is_shared)
    # Keeping an existing share is fine; only turning sharing on needs the right.
    name = _validate_fields(
        owner=by, name=fields.get("name", segment.name), is_shared=is_shared and not segment.is_shared,
        exclude_pk=segment.pk,
    )  # fmt: skip
    segment.name, segment.is_shared, segment.definition = name, is_shared, definition
    segment.description = fields.get("description", segment.description) or ""
    return _save(segment)


def segment_copy(*, segment: Segment, by: User, name: str = "") -> Segment:
    """A new private live segment with the same definition, owned by `by` (how a frozen one is "edited")."""
    base = name or gettext("%(name)s (copy)") % {"name": segment.name}
    candidate = base[:100]
    taken = set(Segment.objects.filter(owner=by, name__startswith=candidate[:90]).values_list("name", flat=True))
    number = 2
    while candidate in taken and not name:
        candidate = f"{base[:90]} {number}"
        number += 1
    return segment_create(owner=by, name=candidate, description=segment.description, definition=segment.definition)


def _insert_members(model: type[models.Model], constants: dict, members: QuerySet[Customer]) -> int:
    """INSERT INTO <model> (<constants>, customer_id) SELECT <constants>, id FROM (<members>): the member
    list is copied inside the database in one statement, however large. The SQL text comes from the ORM
    compiler and model metadata; every value is a query parameter."""
    try:
        sql, params = members.order_by().values(member_id=F("pk")).query.sql_with_params()
    except EmptyResultSet:  # e.g. a reader who sees no customer at all: nothing to copy
        return 0
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name).column for name in constants] + [model._meta.get_field("customer").column]
    values = [connection.ops.adapt_datefield_value(v) if isinstance(v, date) else v for v in constants.values()]
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"SELECT {', '.join(['%s'] * len(values))}, m.member_id FROM ({sql}) m"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *params])
        return cursor.rowcount


def segment_freeze(*, segment: Segment, by: User) -> Segment:
    """Copy the current members (as the owner sees them) into a static list and stamp frozen_at. From then
    on the segment cannot be edited (campaigns target it), only copied."""
    _require_owner(segment, by)
    with transaction.atomic():
        locked = Segment.objects.select_for_update().get(pk=segment.pk)
        _require_live(locked)
        members = segment_members(locked, user=by)
        _insert_members(SegmentMember, {"segment": locked.pk}, members)
        locked.frozen_at = timezone.now()
        locked.save(update_fields=["frozen_at", "updated_at"])
    return locked


def segment_delete(*, segment: Segment, by: User) -> None:
    """Owner only. A segment definition is not customer data, so it goes for good; a frozen list may be the
    target of a campaign and stays."""
    _require_owner(segment, by)
    if segment.is_frozen:
        raise ValidationError(_("A frozen segment is kept: campaigns may target it."))
    segment.delete()


def segment_snapshot(*, segment: Segment, month: date) -> int:
    """Record who is in the segment now as its membership for `month` (all live matches, not one reader's
    view; readers are scoped when the report is read). Re-running replaces that month's rows in one
    transaction."""
    if month.day != 1:
        raise ValueError("month must be the first day of a month")
    members = apply_definition(Customer.objects.live(), segment.definition)
    with transaction.atomic():
        SegmentSnapshot.objects.filter(segment=segment, month=month).delete()
        return _insert_members(SegmentSnapshot, {"segment": segment.pk, "month": month}, members)


def segment_snapshot_all(*, month: date | None = None) -> dict[str, int]:
    """Snapshot every shared live segment for `month` (default: the month that just ended). A segment whose
    definition no longer applies (a criterion was removed) is skipped and logged; the others go on."""
    month = month or previous_month()
    done = rows = skipped = 0
    for segment in Segment.objects.filter(is_shared=True, frozen_at__isnull=True).only("pk", "definition"):
        try:
            rows += segment_snapshot(segment=segment, month=month)
            done += 1
        except ValidationError:
            logger.warning("segment %s not snapshotted: its definition uses a removed criterion", segment.pk)
            skipped += 1
    return {"segments": done, "rows": rows, "skipped": skipped}
