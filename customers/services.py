"""Write operations on the key-account database. Every multi-row write is one transaction; every
change to customers and contacts leaves a history row with who, when and why."""

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_update_with_history

from channels import roles
from channels.models import Role, User
from customers import identifiers, policy
from customers.duplicates import DuplicateCandidate, find_duplicates
from customers.models import (
    MAX_HIERARCHY_DEPTH,
    AccountManagerAssignment,
    Contact,
    Customer,
    CustomerAlias,
    GroupMember,
    MemberCount,
    MergeRecord,
    SpendRecord,
    TierChange,
    Visit,
    visible_ids_among,
)
from customers.models.segmentation import TIER_RANK
from customers.naming import name_key
from customers.selectors import chart_cache_key
from kam import request_cache
from kam.db import numbered_code
from kam.validators import refuse_control_characters

CODE_PREFIX = "KA"


class DuplicateWarning(Exception):
    """Likely duplicates exist; the caller must confirm (confirm_not_duplicate=True) to go on."""

    def __init__(self, candidates: list[DuplicateCandidate]):
        super().__init__(_("This customer may already exist."))
        self.candidates = candidates


# --- matching keys and codes ------------------------------------------------------------------------


def customer_refresh_keys(*, customer: Customer) -> None:
    """Recompute the matching keys (normalised name, region words, phone digits) and give the
    customer its code if it has none. Writes with UPDATE: keys are derived data, not history."""
    key = name_key(customer.name)
    customer.name_core, customer.name_region = key.core, key.region
    customer.phone_digits = identifiers.phone_digits(customer.phone)
    Customer.objects.filter(pk=customer.pk).update(
        name_core=customer.name_core, name_region=customer.name_region, phone_digits=customer.phone_digits
    )
    if not customer.code:
        customer_codes_assign(Customer.objects.filter(pk=customer.pk))
        customer.code = Customer.objects.values_list("code", flat=True).get(pk=customer.pk)


def customer_codes_assign(queryset) -> int:
    """Give every customer in `queryset` without a code its code KA + 8-digit id, in one UPDATE."""
    return queryset.filter(code__isnull=True).update(code=numbered_code(CODE_PREFIX))


# --- validation -----------------------------------------------------------------------------------------


def validate_customer(customer: Customer, *, by: User) -> None:
    """Field rules that need more than one field or the database. Raises ValidationError(dict)."""
    errors: dict[str, list[str]] = {}
    customer.name = " ".join((customer.name or "").split())
    if not customer.name:
        errors.setdefault("name", []).append(_("Enter the customer's legal name."))
    customer.credit_code = identifiers.clean_credit_code(customer.credit_code)
    if customer.credit_code:
        problem = identifiers.credit_code_problem(customer.credit_code)
        if problem and not (customer.credit_code_exception and policy.may_override_credit_code(by)):
            if policy.may_override_credit_code(by):
                problem += " " + _("To keep it anyway, give the reason for the exception.")
            errors.setdefault("credit_code", []).append(problem)
        taken = Customer.objects.live().filter(credit_code=customer.credit_code).exclude(pk=customer.pk).first()
        if taken is not None and visible_ids_among(by, [taken.pk]):
            errors.setdefault("credit_code", []).append(
                _("This credit code is already used by customer %(code)s.") % {"code": taken.code or taken.pk}
            )
        elif taken is not None:  # someone else's customer: said, not named
            errors.setdefault("credit_code", []).append(_("This credit code is already used by another customer."))
    else:
        customer.credit_code_exception = ""
    for field, validator in (("phone", identifiers.validate_phone),):
        try:
            validator(getattr(customer, field))
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
    if customer.postal_code and not re.fullmatch(r"[0-9]{6}", customer.postal_code):
        errors.setdefault("postal_code", []).append(_("A postal code has 6 digits."))
    if customer.parent_id:
        problem = _hierarchy_problem(customer)
        if problem:
            errors.setdefault("parent", []).append(problem)
    if customer.account_manager_id and customer.account_manager.role not in roles.PORTFOLIO:
        errors.setdefault("account_manager", []).append(_("Choose an account manager."))
    # No control characters in any text, on every path (the forms and the API refuse them first; imports here).
    for field in Customer._meta.concrete_fields:
        if isinstance(getattr(customer, field.attname), str) and field.name not in errors:
            try:
                refuse_control_characters(getattr(customer, field.attname))
            except ValidationError as exc:
                errors.setdefault(field.name, []).extend(exc.messages)
    # The model's own bounds (lengths, choices, amounts not negative) on every path: pages, API, imports.
    # Relations are checked above or by the callers' querysets (a check here would query per relation).
    try:
        customer.clean_fields(exclude=[f.name for f in Customer._meta.fields if f.is_relation] + list(errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def customer_field_errors(*, by: User, customer: Customer | None = None, **fields) -> dict[str, list[str]]:
    """What `validate_customer` finds in these values (set on a copy of `customer`, or on a new one), without
    saving or raising: a page whose form already refuses other fields shows these errors in the same answer."""
    draft = copy.copy(customer) if customer is not None else Customer()
    for field, value in fields.items():
        setattr(draft, field, value)
    try:
        validate_customer(draft, by=by)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _hierarchy_problem(customer: Customer) -> str | None:
    """The parent must exist, be live, not be the customer or one of its descendants, and the tree
    must stay within MAX_HIERARCHY_DEPTH levels."""
    ancestors: list[int] = []
    node_id = customer.parent_id
    while node_id is not None:
        if node_id == customer.pk or node_id in ancestors:
            return _("A customer cannot be placed under itself or one of its subsidiaries.")
        ancestors.append(node_id)
        node_id = Customer.objects.filter(pk=node_id).values_list("parent_id", flat=True).first()
    if Customer.objects.filter(pk=customer.parent_id, status=Customer.Status.MERGED).exists():
        return _("The parent has been merged into another customer; choose the surviving record.")
    depth_below = _subtree_depth(customer.pk) if customer.pk else 0
    if len(ancestors) + 1 + depth_below > MAX_HIERARCHY_DEPTH:
        return _("A group hierarchy has at most %(n)d levels (head office → province → city → district).") % {
            "n": MAX_HIERARCHY_DEPTH
        }
    return None


def _subtree_depth(pk: int) -> int:
    depth, frontier = 0, [pk]
    while frontier and depth < MAX_HIERARCHY_DEPTH:
        frontier = list(Customer.objects.filter(parent__in=frontier).values_list("pk", flat=True))
        if frontier:
            depth += 1
    return depth


def _check_duplicates(customer: Customer, *, confirm_not_duplicate: bool) -> None:
    if confirm_not_duplicate:
        return
    candidates = find_duplicates(
        name=customer.name,
        credit_code=customer.credit_code,
        phone=customer.phone,
        parent=customer.parent,
        exclude=customer if customer.pk else None,
    )
    if candidates:
        raise DuplicateWarning(candidates)


# --- customers ----------------------------------------------------------------------------------------


CUSTOMER_WRITABLE_FIELDS = (
    "name", "short_name", "credit_code", "credit_code_exception", "address", "postal_code", "region", "industry",
    "ownership", "phone", "email", "website", "employees", "relationship_since", "status", "tier", "is_strategic",
    "account_manager", "parent", *Customer.SENSITIVE_FIELDS,
)  # fmt: skip


def customer_create(*, by: User, confirm_not_duplicate: bool = False, reason: str = "", **fields) -> Customer:
    """Create a customer (only `name` is required: a prospect). Raises DuplicateWarning when likely
    duplicates exist and the caller has not confirmed, ValidationError for bad input."""
    unknown = set(fields) - set(CUSTOMER_WRITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    if not policy.may_create_customers(by):
        raise PermissionDenied(_("Your role may not create customers."))
    if fields.get("status") == Customer.Status.MERGED:
        raise ValidationError({"status": [_("A customer becomes merged only through a merge.")]})
    customer = Customer(**fields, created_by=by)
    if not policy.may_assign_account_manager(by):
        if customer.account_manager_id not in (None, by.pk):
            raise ValidationError(
                {"account_manager": [_("Only a supervisor can assign a customer to another account manager.")]}
            )
        # Account managers create customers into their own portfolio.
        customer.account_manager = by if by.role in roles.ACCOUNT_MANAGERS else None
    validate_customer(customer, by=by)
    _check_duplicates(customer, confirm_not_duplicate=confirm_not_duplicate)
    return _save_new_customer(customer, by=by, reason=reason or _("Created"))


def prospect_register(*, by: User, confirm_not_duplicate: bool = False, **fields) -> Customer:
    """Register the prospect named by a captured lead or opportunity (seed 004: every channel captures,
    so roles that may not create customers may still name a prospect). Same validation and duplicate check
    as `customer_create`; the prospect has no account manager until routing or a supervisor gives it one."""
    unknown = set(fields) - {"name", "phone", "region", "region_id", "industry", "industry_id", "address"}
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    if not policy.may_register_prospects(by):
        raise PermissionDenied(_("Your role may not register prospects."))
    customer = Customer(**fields, status=Customer.Status.PROSPECT, created_by=by)
    validate_customer(customer, by=by)
    _check_duplicates(customer, confirm_not_duplicate=confirm_not_duplicate)
    return _save_new_customer(customer, by=by, reason=_("Prospect named in a captured opportunity"))


def _save_new_customer(customer: Customer, *, by: User, reason: str) -> Customer:
    with transaction.atomic():
        customer._history_user = by
        customer._change_reason = reason
        try:
            customer.save()
        except IntegrityError as exc:  # a concurrent create took the credit code
            raise ValidationError(
                {"credit_code": [_("This credit code is already used by another customer.")]}
            ) from exc
        customer_refresh_keys(customer=customer)
        if customer.account_manager_id:
            AccountManagerAssignment.objects.create(
                customer=customer,
                account_manager_id=customer.account_manager_id,
                started_at=timezone.now(),
                reason=_("Customer created"),
                assigned_by=by,
            )
    request_cache.clear()  # the new customer joins a portfolio
    return customer


def customer_update(
    *, customer: Customer, by: User, confirm_not_duplicate: bool = False, reason: str = "", **fields
) -> Customer:
    """Change a customer. A new name (or credit code, or main phone) is checked for duplicates again.
    A change of account manager goes through the assignment history."""
    unknown = set(fields) - set(CUSTOMER_WRITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    if not Customer.objects.editable_by(by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not change this customer."))
    if customer.status == Customer.Status.MERGED:
        raise ValidationError(_("This record has been merged into another customer and can no longer change."))
    if fields.get("status") == Customer.Status.MERGED:
        raise ValidationError({"status": [_("A customer becomes merged only through a merge.")]})
    new_manager = fields.pop("account_manager", customer.account_manager)
    if (
        new_manager.pk if new_manager else None
    ) != customer.account_manager_id and not policy.may_assign_account_manager(by):
        raise ValidationError(
            {"account_manager": [_("Only a supervisor can move a customer to another account manager.")]}
        )
    before = {f: getattr(customer, f) for f in ("name", "credit_code", "phone", "tier")}
    for field, value in fields.items():
        setattr(customer, field, value)
    validate_customer(customer, by=by)
    if any(getattr(customer, f) != before[f] for f in ("name", "credit_code", "phone")):
        _check_duplicates(customer, confirm_not_duplicate=confirm_not_duplicate)
    # Save only what this edit changed: a stale instance must not write back the tier evaluation's
    # computed fields (value score, computed tier...) that a batch updated meanwhile.
    update_fields = {*fields, "updated_at"} | ({"credit_code_exception"} if "credit_code" in fields else set())
    with transaction.atomic():
        customer._history_user = by
        customer._change_reason = reason
        if customer.tier != before["tier"]:
            update_fields |= _record_manual_tier(customer, before["tier"], by=by, reason=reason)
        try:
            customer.save(update_fields=sorted(update_fields))
        except IntegrityError as exc:
            raise ValidationError(
                {"credit_code": [_("This credit code is already used by another customer.")]}
            ) from exc
        customer_refresh_keys(customer=customer)
        if (new_manager.pk if new_manager else None) != customer.account_manager_id:
            _reassign([customer], to_user=new_manager, by=by, reason=reason or _("Account manager changed"))
    request_cache.clear()  # a new parent moves the customer between portfolios
    return customer


def _record_manual_tier(customer: Customer, old_tier: str, *, by: User, reason: str) -> set[str]:
    """A tier edited by hand is a tier move like any other (the next publication may move it again;
    a lasting exception is a TierOverride with approver and expiry)."""
    now = timezone.now()
    why = _("Changed by hand by %(user)s") % {"user": by} + (f": {reason}" if reason else "")
    TierChange.objects.create(
        customer=customer, from_tier=old_tier, to_tier=customer.tier, source=TierChange.Source.MANUAL,
        is_upgrade=TIER_RANK.get(customer.tier, 99) < TIER_RANK.get(old_tier, 99), reason=why[:300], changed_at=now,
    )  # fmt: skip
    customer.tier_changed_at, customer.tier_reason = now, why[:300]
    return {"tier_changed_at", "tier_reason"}


def _reassign(customers: list[Customer], *, to_user: User | None, by: User, reason: str) -> None:
    """Move customers to another account manager with history (inside the caller's transaction)."""
    now = timezone.now()
    ids = [c.pk for c in customers]
    AccountManagerAssignment.objects.filter(customer__in=ids, ended_at__isnull=True).update(ended_at=now)
    for customer in customers:
        customer.account_manager = to_user
    bulk_update_with_history(
        customers, Customer, ["account_manager"], default_user=by, default_change_reason=reason, batch_size=500
    )
    request_cache.clear()
    Customer.objects.filter(pk__in=ids).update(updated_at=now)
    if to_user is not None:
        AccountManagerAssignment.objects.bulk_create(
            AccountManagerAssignment(
                customer_id=pk, account_manager=to_user, started_at=now, reason=reason, assigned_by=by
            )
            for pk in ids
        )


def customer_handover(
    *, from_user: User, to_user: User, by: User, reason: str, customer_ids: Iterable[int] | None = None
) -> int:
    """Move one, several or all customers of an account manager to another, in one transaction.
    Returns how many moved. Only the supervisor of the giving manager's team (or an admin) may do it."""
    if not reason or not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the handover.")]})
    if from_user.pk == to_user.pk:
        raise ValidationError({"to_user": [_("Choose a different account manager.")]})
    supervises = by.role == Role.SUPERVISOR and from_user.team_id is not None and from_user.team.supervisor_id == by.pk
    if not (by.is_admin_role or supervises):
        raise PermissionDenied(_("Only the supervisor of this account manager's team may hand over the portfolio."))
    if not to_user.is_active or to_user.role not in roles.PORTFOLIO:
        raise ValidationError({"to_user": [_("The receiver must be an active account manager.")]})
    with transaction.atomic():
        queryset = Customer.objects.live().filter(account_manager=from_user).select_for_update().order_by("pk")
        if customer_ids is not None:
            wanted = set(customer_ids)
            queryset = queryset.filter(pk__in=wanted)
            customers = list(queryset)
            if len(customers) != len(wanted):
                raise ValidationError(
                    {"customers": [_("Some of the chosen customers are not served by this account manager.")]}
                )
        else:
            customers = list(queryset)
        if not customers:
            raise ValidationError({"customers": [_("This account manager serves no customers to hand over.")]})
        _reassign(customers, to_user=to_user, by=by, reason=reason.strip())
    request_cache.clear()
    return len(customers)


# --- merge ----------------------------------------------------------------------------------------------

# Hooks for related rows that cannot simply be re-pointed (later apps register theirs from
# AppConfig.ready()): handler(survivor, duplicate) -> number of rows moved or combined.
MERGE_HANDLERS: dict[type, callable] = {}
# Related rows that stay with the merged record on purpose (audit of the merge itself), or that are derived and
# recomputed for both records once everything moved (the monthly member counts).
MERGE_KEEP = {(MergeRecord, "survivor"), (MergeRecord, "duplicate"), (MemberCount, "customer")}
# Fields copied from the duplicate when the survivor has none.
MERGE_FILL_FIELDS = (
    "short_name", "credit_code", "address", "postal_code", "region", "industry", "ownership", "phone", "email",
    "website", "employees", "relationship_since", *Customer.SENSITIVE_FIELDS,
)  # fmt: skip


def register_merge_handler(model: type, handler) -> None:
    MERGE_HANDLERS[model] = handler


def _merge_spend(survivor: Customer, duplicate: Customer) -> int:
    """Spend of the same month and category is added to the survivor's; the rest moves."""
    clashing = SpendRecord.objects.filter(
        customer=duplicate,
        month__in=SpendRecord.objects.filter(customer=survivor).values("month"),
    )
    combined = 0
    survivor_rows = {
        (r.month, r.category): r
        for r in SpendRecord.objects.filter(customer=survivor, month__in=clashing.values("month")).select_for_update()
    }
    for row in clashing.select_for_update():
        target = survivor_rows.get((row.month, row.category))
        if target is not None:
            SpendRecord.objects.filter(pk=target.pk).update(amount=F("amount") + row.amount)
            row.delete()
            combined += 1
    moved = SpendRecord.objects.filter(customer=duplicate).update(customer=survivor)
    return moved + combined


MERGE_HANDLERS[SpendRecord] = _merge_spend


def _repoint(model, field_name: str, survivor: Customer, duplicate: Customer) -> int:
    """Re-point `model.field_name` from the duplicate to the survivor, leaving behind rows that would
    break a unique constraint or make a row point at the survivor twice."""
    rows = model._default_manager.filter(**{field_name: duplicate})
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if field_name not in fields:
            continue
        others = [f for f in fields if f != field_name]
        clash = model._default_manager.filter(**{field_name: survivor}, **{f: OuterRef(f) for f in others})
        if constraint.condition is not None:
            clash = clash.filter(constraint.condition)
            rows = rows.exclude(Q(constraint.condition) & Q(Exists(clash)))
        else:
            rows = rows.exclude(Exists(clash))
    for other in model._meta.fields:
        if other.name != field_name and other.is_relation and other.related_model is Customer:
            rows = rows.exclude(**{other.name: survivor})
    return rows.update(**{field_name: survivor})


def customer_merge(*, survivor: Customer, duplicate: Customer, by: User, reason: str = "") -> MergeRecord:
    """Merge a duplicate into the survivor. Everything attached to the duplicate moves (contacts,
    spend, members, visits, children, aliases, assignments and whatever later apps attach); the
    duplicate stays as a merged record pointing to the survivor and its names become aliases."""
    if not policy.is_data_steward(by):
        raise PermissionDenied(_("Only a data steward may merge customers."))
    if survivor.pk == duplicate.pk:
        raise ValidationError({"duplicate": [_("A customer cannot be merged into itself.")]})
    with transaction.atomic():
        # Lock both rows in a fixed order so two merges of the same pair cannot interleave.
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk]).order_by("pk")
        }
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        for record in (survivor, duplicate):
            if record.status == Customer.Status.MERGED:
                raise ValidationError({"duplicate": [_("%(name)s has already been merged.") % {"name": record.name}]})
        now = timezone.now()
        AccountManagerAssignment.objects.filter(customer=duplicate, ended_at__isnull=True).update(ended_at=now)
        if survivor.parent_id == duplicate.pk:
            survivor.parent_id = duplicate.parent_id
            Customer.objects.filter(pk=survivor.pk).update(parent_id=duplicate.parent_id)
        moved: dict[str, int] = {}
        for relation in Customer._meta.get_fields(include_hidden=True):
            if not (relation.one_to_many or relation.one_to_one) or not relation.auto_created:
                continue
            model, field_name = relation.related_model, relation.field.name
            if issubclass(model, HistoricalChanges) or (model, field_name) in MERGE_KEEP:
                continue
            handler = MERGE_HANDLERS.get(model)
            count = handler(survivor, duplicate) if handler else _repoint(model, field_name, survivor, duplicate)
            if count:
                key = f"{model._meta.label_lower}.{field_name}"
                moved[key] = moved.get(key, 0) + count
        for alias in {duplicate.name, duplicate.short_name} - {"", survivor.name}:
            key = name_key(alias)
            CustomerAlias.objects.get_or_create(
                customer=survivor,
                name=alias,
                defaults={"source": CustomerAlias.Source.MERGE, "name_core": key.core, "name_region": key.region},
            )
        duplicate.status, duplicate.merged_into = Customer.Status.MERGED, survivor
        duplicate._history_user, duplicate._change_reason = by, _("Merged into %(name)s") % {"name": survivor.name}
        duplicate.save()
        filled = [f for f in MERGE_FILL_FIELDS if _blank(getattr(survivor, f)) and not _blank(getattr(duplicate, f))]
        for field in filled:
            setattr(survivor, field, getattr(duplicate, field))
        survivor.members_count = survivor.members.filter(status=GroupMember.Status.ACTIVE).count()
        # Members moved to the survivor (a number both records hold stays with the duplicate): both recomputed.
        member_months_recompute(customer_ids=[survivor.pk, duplicate.pk])
        survivor._history_user = by
        survivor._change_reason = _("Merged %(name)s into this customer") % {"name": duplicate.name}
        survivor.save()
        customer_refresh_keys(customer=survivor)
        request_cache.clear()  # children moved to the survivor
        transaction.on_commit(lambda: customer_charts_forget([survivor.pk, duplicate.pk]))
        return MergeRecord.objects.create(
            survivor=survivor, duplicate=duplicate, merged_by=by, reason=reason, moved=moved
        )


def _blank(value) -> bool:
    return value is None or value == ""


# --- contacts and visits ----------------------------------------------------------------------------------

CONTACT_WRITABLE_FIELDS = (
    "name", "gender", "birthday", "education", "department", "title", "decision_role", "influence", "attitude",
    "mobile", "office_phone", "email", "address", "hobbies", "character", "is_key_person", "active_from", "active_to",
)  # fmt: skip


def _validate_contact(contact: Contact) -> None:
    errors: dict[str, list[str]] = {}
    contact.name = " ".join((contact.name or "").split())
    if not contact.name:
        errors["name"] = [_("Enter the contact's name.")]
    for field, validator in (("mobile", identifiers.validate_mobile), ("office_phone", identifiers.validate_phone)):
        try:
            validator(getattr(contact, field))
        except ValidationError as exc:
            errors[field] = exc.messages
    if contact.active_from and contact.active_to and contact.active_to < contact.active_from:
        errors["active_to"] = [_("The end date is before the start date.")]
    if errors:
        raise ValidationError(errors)
    contact.mobile_digits = identifiers.phone_digits(contact.mobile)
    contact.office_phone_digits = identifiers.phone_digits(contact.office_phone)


def _require_editable(customer: Customer, by: User) -> None:
    if not Customer.objects.editable_by(by).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not change this customer."))
    if customer.status == Customer.Status.MERGED:
        raise ValidationError(_("This record has been merged into another customer and can no longer change."))


def contact_create(*, customer: Customer, by: User, **fields) -> Contact:
    _require_editable(customer, by)
    contact = Contact(customer=customer, **fields)
    _validate_contact(contact)
    contact._history_user, contact._change_reason = by, _("Created")
    contact.save()
    return contact


def contact_update(*, contact: Contact, by: User, reason: str = "", **fields) -> Contact:
    _require_editable(contact.customer, by)
    for field, value in fields.items():
        setattr(contact, field, value)
    _validate_contact(contact)
    contact._history_user, contact._change_reason = by, reason
    contact.save()
    return contact


def visit_create(*, customer: Customer, by: User, contacts: Iterable[Contact] = (), **fields) -> Visit:
    _require_editable(customer, by)
    contacts = list(contacts)
    errors: dict[str, list[str]] = {}
    if any(c.customer_id != customer.pk for c in contacts):
        errors["contacts"] = [_("Choose contacts of this customer.")]
    visited_on = fields.get("visited_on")
    if visited_on and visited_on > timezone.localdate():
        errors["visited_on"] = [_("A visit cannot be logged in the future; plan it as the next visit instead.")]
    next_on = fields.get("next_visit_on")
    if next_on and visited_on and next_on < visited_on:
        errors["next_visit_on"] = [_("The next visit must come after this one.")]
    if not (fields.get("purpose") or "").strip():
        errors["purpose"] = [_("Say what the visit was for.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = Visit.objects.create(customer=customer, visited_by=by, **fields)
        visit.contacts.set(contacts)
    return visit


# --- billing feeds (bulk upserts) -----------------------------------------------------------------------


@dataclass(frozen=True)
class SpendRow:
    customer_id: int
    month: date
    category: str
    amount: Decimal


@dataclass(frozen=True)
class MemberRow:
    customer_id: int
    msisdn: str
    status: str
    joined_on: date
    left_on: date | None


def _resolve_feed_customers(ids: set[int]) -> dict[int, int]:
    """Map customer ids from a feed to the live record (a merged id resolves to its survivor)."""
    found = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "merged_into_id"))
    return {pk: (found[pk] or pk) for pk in ids if pk in found}


def feed_customer_map(ids: set[int]) -> dict[int, int]:
    """The same mapping for callers that report unknown ids row by row before writing (the feed API)."""
    return _resolve_feed_customers(ids)


def spend_upsert(*, rows: list[SpendRow]) -> dict[str, int]:
    """Insert or replace monthly spend facts in one transaction (set-based: one upsert per batch)."""
    resolved = _resolve_feed_customers({r.customer_id for r in rows})
    missing = sorted({r.customer_id for r in rows} - set(resolved))
    if missing:
        raise ValidationError(
            {"customer": [_("Unknown customer ids: %(ids)s") % {"ids": ", ".join(map(str, missing[:20]))}]}
        )
    objs = [
        SpendRecord(
            customer_id=resolved[r.customer_id],
            month=r.month,
            category=r.category,
            amount=r.amount,
            updated_at=timezone.now(),
        )
        for r in rows
    ]
    with transaction.atomic():
        transaction.on_commit(lambda: customer_charts_forget(set(resolved.values())))
        SpendRecord.objects.bulk_create(
            objs,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["customer", "month", "category"],
            update_fields=["amount", "updated_at"],
        )
    return {"received": len(rows), "customers": len(set(resolved.values()))}


def members_upsert(*, rows: list[MemberRow]) -> dict[str, int]:
    """Insert or update group members and refresh what is derived from them (members count, monthly member
    counts, cached charts) for the customers touched."""
    resolved = _resolve_feed_customers({r.customer_id for r in rows})
    missing = sorted({r.customer_id for r in rows} - set(resolved))
    if missing:
        raise ValidationError(
            {"customer": [_("Unknown customer ids: %(ids)s") % {"ids": ", ".join(map(str, missing[:20]))}]}
        )
    now = timezone.now()
    objs = [
        GroupMember(
            customer_id=resolved[r.customer_id],
            msisdn=r.msisdn,
            status=r.status,
            joined_on=r.joined_on,
            left_on=r.left_on,
            updated_at=now,
        )
        for r in rows
    ]
    touched = set(resolved.values())
    with transaction.atomic():
        GroupMember.objects.bulk_create(
            objs,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["customer", "msisdn"],
            update_fields=["status", "joined_on", "left_on", "updated_at"],
        )
        member_facts_refresh(customer_ids=touched)
    return {"received": len(rows), "customers": len(touched)}


def customer_charts_forget(customer_ids: Iterable[int]) -> None:
    """Billed facts changed: the 360 page's cached charts of these customers are stale."""
    cache.delete_many([chart_cache_key(pk) for pk in customer_ids])


def member_counts_refresh(*, customer_ids: Iterable[int] | None = None) -> int:
    """Set Customer.members_count from the member facts with one UPDATE ... SET = (subquery)."""
    active = (
        GroupMember.objects.filter(customer=OuterRef("pk"), status=GroupMember.Status.ACTIVE)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queryset = Customer.objects.all()
    if customer_ids is not None:
        queryset = queryset.filter(pk__in=list(customer_ids))
    return queryset.update(members_count=Coalesce(Subquery(active, output_field=IntegerField()), 0))


def member_facts_refresh(*, customer_ids: Iterable[int]) -> None:
    """Members of these customers were written (feed, merge, admin): refresh what is derived from them, the
    members count and the monthly member counts, and drop their cached charts once committed. The count's
    UPDATE locks the customer rows first, so two writers of one customer's members recompute one after the other."""
    customer_ids = sorted(set(customer_ids))
    with transaction.atomic():
        member_counts_refresh(customer_ids=customer_ids)
        member_months_recompute(customer_ids=customer_ids)
        transaction.on_commit(lambda: customer_charts_forget(customer_ids))


def _member_months_sql() -> dict[str, str]:
    """The spellings of the monthly member count statements that PostgreSQL and SQLite do not share."""
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        month = "CAST(date_trunc('month', {}) AS date)".format
        later = "GREATEST({}, {})".format
        among = "customer_id = ANY(CAST(%(ids)s AS bigint[]))"
    else:
        month = "date({}, 'start of month')".format
        later = "MAX({}, {})".format  # SQLite's two-argument MAX is the scalar one
        among = "customer_id IN (SELECT value FROM json_each(%(ids)s))"
    return {
        "table": qn(MemberCount._meta.db_table),
        "members": qn(GroupMember._meta.db_table),
        "columns": ", ".join(qn(c) for c in ("customer_id", "month", "active", "joined", "left")),
        "updates": ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in ("active", "joined", "left")),
        "differs": " OR ".join(f"{qn(MemberCount._meta.db_table)}.{qn(c)} <> excluded.{qn(c)}"
                               for c in ("active", "joined", "left")),
        "join_month": month("joined_on"),
        "leave_month": month(later("joined_on", "left_on")),
        "among": among,
    }  # fmt: skip


# PostgreSQL advisory lock (an arbitrary fixed key) between the daily run and the member writers: writers hold it
# shared until they commit, the daily run exclusively, so its INSERT ... SELECT never reads members a writer has not
# committed yet and then overwrites that writer's fresh month. SQLite runs one writer at a time anyway.
MEMBER_MONTHS_LOCK = 0x4B414D_4D4D


def _member_months_lock(cursor, *, exclusive: bool) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(f"SELECT pg_advisory_xact_lock{'' if exclusive else '_shared'}(%s)", [MEMBER_MONTHS_LOCK])


def member_months_recompute(*, customer_ids: Iterable[int] | None = None) -> int:
    """Rebuild the monthly member counts (MemberCount) of these customers (None: every customer) from their
    member rows, set-based: one DELETE and one INSERT ... SELECT, whatever the number of members or months.

    Every member adds a join in the month of its joined_on and, once it has left, a departure in the month of
    its left_on (of its joined_on if it left "before" it joined, which the chart's rule never counts); the rows
    are the months with either, plus the current month, and `active` is the running sum of joins minus
    departures, which equals the chart's rule (joined on or before the month's end, not left by then) at every
    month's end. Returns the rows written."""
    sql = _member_months_sql()
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids == []:
        return 0
    where = "true" if ids is None else sql["among"]
    scope = {} if ids is None else {"ids": ids if connection.vendor == "postgresql" else json.dumps(ids)}
    current = connection.ops.adapt_datefield_value(timezone.localdate().replace(day=1))
    with transaction.atomic(), connection.cursor() as cursor:
        _member_months_lock(cursor, exclusive=False)
        cursor.execute(f"DELETE FROM {sql['table']} WHERE {where}", scope)
        # ON CONFLICT only for a writer that got in between (the callers hold the customer rows' locks).
        cursor.execute(
            f"""INSERT INTO {sql["table"]} ({sql["columns"]})
            SELECT customer_id, month, SUM(SUM(joined) - SUM(departed)) OVER (PARTITION BY customer_id ORDER BY month),
                   SUM(joined), SUM(departed)
            FROM (
                SELECT customer_id, {sql["join_month"]} AS month, 1 AS joined, 0 AS departed
                FROM {sql["members"]} WHERE {where}
                UNION ALL
                SELECT customer_id, {sql["leave_month"]}, 0, 1
                FROM {sql["members"]} WHERE left_on IS NOT NULL AND {where}
                UNION ALL
                SELECT DISTINCT customer_id, %(current)s, 0, 0 FROM {sql["members"]} WHERE {where}
            ) events
            WHERE true
            GROUP BY customer_id, month
            ON CONFLICT (customer_id, month) DO UPDATE SET {sql["updates"]}""",
            {**scope, "current": current},
        )
        return cursor.rowcount


def member_months_record(*, month: date | None = None) -> int:
    """Write one month's member counts (default: the current month) for every customer with members, in one
    INSERT ... SELECT ... GROUP BY with upsert; rows whose counts did not change are not rewritten. The daily
    beat run gives every customer its row for the new month and re-derives the month from the member rows
    whatever wrote them. Returns the rows inserted or changed."""
    sql = _member_months_sql()
    start = (month or timezone.localdate()).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        _member_months_lock(cursor, exclusive=True)
        cursor.execute(
            f"""INSERT INTO {sql["table"]} ({sql["columns"]})
            SELECT customer_id, %(start)s,
                   SUM(CASE WHEN joined_on <= %(end)s AND (left_on IS NULL OR left_on > %(end)s) THEN 1 ELSE 0 END),
                   SUM(CASE WHEN joined_on >= %(start)s AND joined_on <= %(end)s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN left_on IS NOT NULL AND {sql["leave_month"]} = %(start)s THEN 1 ELSE 0 END)
            FROM {sql["members"]}
            WHERE true
            GROUP BY customer_id
            ON CONFLICT (customer_id, month) DO UPDATE SET {sql["updates"]} WHERE {sql["differs"]}""",
            {"start": connection.ops.adapt_datefield_value(start), "end": connection.ops.adapt_datefield_value(end)},
        )
        return cursor.rowcount


def name_keys_refresh(*, batch_size: int = 2000) -> int:
    """Recompute the stored name keys of every customer and alias after the naming rules changed
    (a new abbreviation or region). The normaliser is Python, so rows are read in primary-key
    batches and only changed keys are written back with bulk_update. Returns the rows changed."""
    changed_total = 0
    for model in (Customer, CustomerAlias):
        last_pk = 0
        while True:
            batch = list(
                model.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "name", "name_core", "name_region")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            changed = []
            for row in batch:
                key = name_key(row.name)
                if (row.name_core, row.name_region) != (key.core, key.region):
                    row.name_core, row.name_region = key.core, key.region
                    changed.append(row)
            model.objects.bulk_update(changed, ["name_core", "name_region"])
            changed_total += len(changed)
    return changed_total


def service_flags_set(customer: Customer, *, by: User, vip: bool, blacklisted: bool, reason: str) -> Customer:
    """Set the customer's VIP handling and blacklist flags, with the reason (required) and who set them; the
    change is in the customer's history like any other."""
    if not policy.may_set_service_flags(by):
        raise PermissionDenied(_("Your role may not set VIP handling or the blacklist."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("At most 300 characters.")]})
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.is_vip, customer.is_blacklisted = vip, blacklisted
        customer.service_flag_reason, customer.service_flag_by, customer.service_flag_at = reason, by, timezone.now()
        customer._history_user = by
        customer._change_reason = reason
        customer.save(update_fields=["is_vip", "is_blacklisted", "service_flag_reason", "service_flag_by",
                                     "service_flag_at"])  # fmt: skip
    return customer
