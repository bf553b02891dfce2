"""Write operations on agreements (协议, seed 003): drafting from a template, the term checks, the internal
approval, signing, numbering on activation, versioned changes by the named editors, termination, and the
daily sweep (expiry, automatic renewal, reminders, renewal opportunities).

Every state change is a compare-and-set UPDATE whose WHERE names the state it expects, so two people pressing
the same button leave one winner and the other gets `InvalidTransition`. A change of an effective agreement
locks the row and writes version n+1 (unique per agreement), so two editors cannot both write version 3.

orders sits below opportunities: the renewal opportunity is opened by whatever `register_renewal_handler`
registered (opportunities.renewals), never by an import of opportunities here."""

import calendar
import datetime
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from channels.models import User
from channels.notifications import Message, notify, notify_many
from customers.models import Customer
from kam.db import numbered_code
from orders import policy
from orders.models import Agreement, AgreementItem, AgreementTemplate, AgreementVersion, Product, SlaClass

logger = logging.getLogger("kam.orders")

NUMBER_PREFIX = "AG"
TERM_MIN, TERM_MAX = 1, 120
REMINDER_DAYS = (90, 60, 30)  # expiry reminders, each sent once (Agreement.reminded_days)
RENEWAL_WINDOW_DAYS = 90  # a renewal opportunity is opened this far ahead of the end
Status = Agreement.Status
# What agreement_create/agreement_update accept besides the items and the editors.
TERM_FIELDS = ("title", "terms", "term_months", "discount_cap", "sla_class", "auto_renewal", "starts_on", "ends_on")


# The life cycle: action → (the states it starts from, the state it leads to). Approval keeps the agreement in
# approval (it records the approver); signing needs that approval. The sweep expires and renews.
TRANSITIONS = {
    "submit": ((Status.DRAFT,), Status.IN_APPROVAL),
    "approve": ((Status.IN_APPROVAL,), Status.IN_APPROVAL),
    "reject": ((Status.IN_APPROVAL,), Status.DRAFT),
    "sign": ((Status.IN_APPROVAL,), Status.SIGNED),
    "activate": ((Status.SIGNED,), Status.EFFECTIVE),
    "terminate": ((Status.EFFECTIVE,), Status.TERMINATED),
    "expire": ((Status.EFFECTIVE,), Status.EXPIRED),
}
REFUSALS = {
    "submit": gettext_lazy("Only a draft can be submitted for approval (this agreement is %(status)s)."),
    "approve": gettext_lazy("Only an agreement in approval can be approved (this one is %(status)s)."),
    "reject": gettext_lazy("Only an agreement in approval can be sent back (this one is %(status)s)."),
    "sign": gettext_lazy("Only an approved agreement in approval can be signed (this one is %(status)s)."),
    "activate": gettext_lazy("Only a signed agreement can be made effective (this one is %(status)s)."),
    "terminate": gettext_lazy("Only an effective agreement can be terminated (this one is %(status)s)."),
}


class InvalidTransition(ValidationError):
    """The agreement is not in a state that allows this (already submitted, changed meanwhile): HTTP 409."""


def detail_link(agreement: Agreement) -> str:
    return reverse("orders:agreement-detail", args=[agreement.pk])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved by whole months; the 31st becomes the month's last day where the month is shorter."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def end_of_term(starts_on: datetime.date, term_months: int) -> datetime.date:
    """The last day of a term: 2027-01-01 for 12 months ends 2027-12-31."""
    return add_months(starts_on, term_months) - datetime.timedelta(days=1)


# --- renewal hook ------------------------------------------------------------------------------------------

_renewal_handlers: list[Callable[[list[Agreement]], None]] = []


def register_renewal_handler(fn: Callable[[list[Agreement]], None]) -> None:
    """Called by a higher app (opportunities) from its AppConfig.ready(): `fn(agreements)` opens what renewing
    them needs. Registering the same function twice keeps one."""
    if fn not in _renewal_handlers:
        _renewal_handlers.append(fn)


def unregister_renewal_handler(fn) -> None:
    if fn in _renewal_handlers:
        _renewal_handlers.remove(fn)


# --- the term checks ---------------------------------------------------------------------------------------


def _money(value) -> str:
    return f"{Decimal(value):.2f}"


def item_errors(items: list[dict], *, discount_cap) -> list[str]:
    """Each violation of an item's terms, naming the term and the product."""
    errors: list[str] = []
    seen: set[int] = set()
    cap = Decimal(discount_cap if discount_cap is not None else 0)
    for item in items:
        product: Product = item["product"]
        if product.pk in seen:
            errors.append(_("%(product)s is listed twice: an agreement covers a product once.") % {
                "product": product.code})  # fmt: skip
            continue
        seen.add(product.pk)
        price = item.get("unit_price")
        if price is None:
            errors.append(_("Give the unit price of %(product)s.") % {"product": product.code})
        else:
            price = Decimal(price)
            low, high = product.list_price_min, product.list_price_max
            values = {"price": _money(price), "low": _money(low or 0), "high": _money(high) if high else "…",
                      "product": product.code}  # fmt: skip
            if price < 0:
                errors.append(_("The unit price of %(product)s cannot be negative.") % values)
            elif low is not None and price < low:
                errors.append(_("Price %(price)s is below the list price range %(low)s–%(high)s of %(product)s.")
                              % values)  # fmt: skip
            elif high is not None and price > high:
                errors.append(_("Price %(price)s is above the list price range %(low)s–%(high)s of %(product)s.")
                              % values)  # fmt: skip
        discount = Decimal(item.get("discount") or 0)
        if discount < 0:
            errors.append(_("The discount on %(product)s cannot be negative.") % {"product": product.code})
        elif discount > cap:
            errors.append(
                _("Discount %(discount)s%% on %(product)s is above the agreement's discount cap %(cap)s%%.")
                % {"discount": _money(discount), "product": product.code, "cap": _money(cap)}
            )
        quantity = item.get("max_quantity")
        if quantity is not None and quantity < 1:
            errors.append(_("The maximum quantity of %(product)s must be at least 1.") % {"product": product.code})
    return errors


def term_errors(values: dict, items: list[dict] | None) -> dict[str, list[str]]:
    """Every violated term of an agreement's values (TERM_FIELDS) and items, all at once, keyed by field."""
    errors: dict[str, list[str]] = {}
    if not (values.get("title") or "").strip():
        errors["title"] = [_("Give the agreement a title.")]
    term = values.get("term_months")
    if term is None or not TERM_MIN <= term <= TERM_MAX:
        errors["term_months"] = [
            _("The term is %(min)s to %(max)s months (given: %(term)s).")
            % {"min": TERM_MIN, "max": TERM_MAX, "term": term}  # fmt: skip
        ]
    cap = values.get("discount_cap")
    if cap is None or not 0 <= Decimal(cap) <= 100:
        errors["discount_cap"] = [_("The discount cap is a percentage from 0 to 100.")]
        cap = Decimal(0)
    if values.get("sla_class") not in SlaClass.values:
        errors["sla_class"] = [_("Unknown SLA class.")]
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and ends <= starts:
        errors["ends_on"] = [
            _("The agreement must end after it starts (starts %(starts)s, ends %(ends)s).")
            % {"starts": starts.isoformat(), "ends": ends.isoformat()}
        ]
    if items is not None:
        found = item_errors(items, discount_cap=cap)
        if found:
            errors["items"] = found
    return errors


def editor_errors(customer: Customer, editors: Iterable[User]) -> dict[str, list[str]]:
    """A named editor must see the customer (else they could not open the agreement they are to change)."""
    blind = [str(u) for u in editors if not Customer.objects.visible_to(u).filter(pk=customer.pk).exists()]
    if not blind:
        return {}
    return {"editors": [_("%(people)s cannot see this customer: name people who serve it.") % {
        "people": ", ".join(blind)}]}  # fmt: skip


def _clean_items(items: Iterable[dict]) -> list[dict]:
    keys = ("product", "unit_price", "discount", "max_quantity", "note")
    return [{k: item.get(k) for k in keys} for item in items]


def _item_state(item) -> dict:
    """An item as it stands in a version's diff and snapshot (JSON: decimals as strings)."""
    get = item.get if isinstance(item, dict) else lambda k: getattr(item, k)
    return {
        "unit_price": _money(get("unit_price")),
        "discount": _money(get("discount") or 0),
        "max_quantity": get("max_quantity"),
        "note": get("note") or "",
    }


def _json(value):
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def snapshot(agreement: Agreement, items: list[AgreementItem] | None = None, editor_ids=None) -> dict:
    """The whole agreement as it stands (AgreementVersion.snapshot)."""
    if items is None:
        items = list(agreement.items.select_related("product"))
    if editor_ids is None:
        editor_ids = agreement.editors.values_list("pk", flat=True)
    data = {field: _json(getattr(agreement, field)) for field in TERM_FIELDS}
    data.update(number=agreement.number, status=agreement.status, version=agreement.version,
                editors=sorted(editor_ids),
                items={item.product.code: _item_state(item) for item in items})  # fmt: skip
    return data


def _write_items(agreement: Agreement, items: list[dict]) -> None:
    agreement.items.all().delete()
    AgreementItem.objects.bulk_create(
        AgreementItem(agreement=agreement, product=i["product"], unit_price=i["unit_price"],
                      discount=i.get("discount") or 0, max_quantity=i.get("max_quantity"), note=i.get("note") or "")
        for i in items
    )  # fmt: skip


def _get_for_update(pk: int) -> Agreement:
    return Agreement.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)


# --- drafting and changes ----------------------------------------------------------------------------------


def template_defaults(template: AgreementTemplate | None) -> dict:
    """What a template gives a new agreement: its term, discount cap, SLA class, renewal and text."""
    if template is None:
        return {}
    return {
        "term_months": template.default_term_months, "discount_cap": template.default_discount_cap,
        "sla_class": template.default_sla_class, "auto_renewal": template.auto_renewal, "terms": template.body,
    }  # fmt: skip


def agreement_create(
    customer: Customer,
    *,
    by: User,
    template: AgreementTemplate | None = None,
    title: str,
    items: Iterable[dict] | None = None,
    editors: Iterable[User] = (),
    **terms,
) -> Agreement:
    """Draft an agreement for a customer the drafter sees. Terms not given come from the template, then from
    the model's defaults; without items, the template's products are listed at their lowest list price."""
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    if not policy.may_draft_agreement(by):
        raise PermissionDenied(_("Your role may not draft agreements."))
    if not Customer.objects.visible_to(by).live().filter(pk=customer.pk).exists():
        raise ValidationError({"customer": [_("No such customer.")]})
    if template is not None and not template.is_active:
        raise ValidationError({"template": [_("This template is no longer in use.")]})
    values = {"term_months": 12, "discount_cap": Decimal(0), "sla_class": SlaClass.STANDARD, "auto_renewal": False,
              "terms": "", "starts_on": None, "ends_on": None}  # fmt: skip
    values.update(template_defaults(template))
    values.update({k: v for k, v in terms.items() if v is not None})
    values["title"] = (title or "").strip()
    if items is None:
        products = template.products.all() if template is not None else []
        items = [{"product": p, "unit_price": p.list_price_min or Decimal(0), "discount": Decimal(0)} for p in products]
    items = _clean_items(items)
    editors = list(editors)
    errors = {**term_errors(values, items), **editor_errors(customer, editors)}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        agreement = Agreement.objects.create(customer=customer, template=template, created_by=by, **values)
        _write_items(agreement, items)
        if editors:
            agreement.editors.set(editors)
    return agreement


def agreement_update(
    agreement: Agreement,
    *,
    by: User,
    reason: str = "",
    items: Iterable[dict] | None = None,
    editors: Iterable[User] | None = None,
    **changes,
) -> Agreement:
    """Change an agreement. A draft: its drafter or the customer's account manager, freely (no version).
    Effective: only a named editor, with a reason; each change is a new AgreementVersion (version + 1) with the
    diff {field: [before, after]} (items as "item:<product code>"), who, why and the snapshot."""
    unknown = set(changes) - set(TERM_FIELDS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    with transaction.atomic():
        agreement = _get_for_update(agreement.pk)
        if agreement.status == Status.DRAFT:
            if not policy.may_edit_draft(by, agreement):
                raise PermissionDenied(_("Only its drafter or the customer's account manager changes a draft."))
            versioned = False
        elif agreement.status == Status.EFFECTIVE:
            if not policy.is_agreement_editor(by, agreement):
                raise PermissionDenied(_("Only the agreement's named editors change it once it is effective."))
            versioned = True
        else:
            raise InvalidTransition(
                _("Only a draft or an effective agreement can be changed (this one is %(status)s).")
                % {"status": agreement.get_status_display()}
            )
        old_items = list(agreement.items.select_related("product"))
        before = {field: getattr(agreement, field) for field in TERM_FIELDS}
        after = {**before, **changes}
        if isinstance(after.get("title"), str):
            after["title"] = after["title"].strip()
        new_items = _clean_items(items) if items is not None else None
        errors = term_errors(after, new_items if new_items is not None else _clean_items(_as_dicts(old_items)))
        if versioned and not (reason or "").strip():
            errors["reason"] = [_("Say why the effective agreement changes.")]
        if editors is not None:
            editors = list(editors)
            errors.update(editor_errors(agreement.customer, editors))
        if errors:
            raise ValidationError(errors)
        diff = {f: [_json(before[f]), _json(after[f])] for f in TERM_FIELDS if _json(before[f]) != _json(after[f])}
        if new_items is not None:
            diff.update(_items_diff(old_items, new_items))
        if editors is not None:
            old_ids = sorted(agreement.editors.values_list("pk", flat=True))
            new_ids = sorted({u.pk for u in editors})
            if old_ids != new_ids:
                diff["editors"] = [_names(old_ids), _names(new_ids)]
        if not diff:
            return agreement
        for field, value in after.items():
            setattr(agreement, field, value)
        if versioned:
            agreement.version += 1
        agreement.save(update_fields=[*TERM_FIELDS, "version"])
        if new_items is not None:
            _write_items(agreement, new_items)
        if editors is not None:
            agreement.editors.set(editors)
        if versioned:
            AgreementVersion.objects.create(
                agreement=agreement, version=agreement.version, changed_by=by, reason=reason.strip(), changes=diff,
                snapshot=snapshot(agreement),
            )  # fmt: skip
    return agreement


def _as_dicts(items: list[AgreementItem]) -> list[dict]:
    return [{"product": i.product, "unit_price": i.unit_price, "discount": i.discount,
             "max_quantity": i.max_quantity, "note": i.note} for i in items]  # fmt: skip


def _items_diff(old: list[AgreementItem], new: list[dict]) -> dict:
    before = {i.product.code: _item_state(i) for i in old}
    after = {i["product"].code: _item_state(i) for i in new}
    return {
        f"item:{code}": [before.get(code), after.get(code)]
        for code in sorted(before.keys() | after.keys())
        if before.get(code) != after.get(code)
    }


def _names(ids: list[int]) -> list[str]:
    people = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    return [people.get(pk, str(pk)) for pk in ids]


# --- the life cycle ----------------------------------------------------------------------------------------


def _move(agreement: Agreement, *, expected: str, **fields) -> None:
    """Compare-and-set: the row moves only if it is still in `expected`; otherwise someone was faster."""
    if not Agreement.objects.filter(pk=agreement.pk, status=expected).update(**fields):
        raise InvalidTransition(_("Someone changed this agreement meanwhile; reload and try again."))
    for field, value in fields.items():
        setattr(agreement, field, value)


def _require(agreement: Agreement, action: str) -> None:
    """Refuse a move the life cycle (TRANSITIONS) does not allow from the agreement's state."""
    if agreement.status not in TRANSITIONS[action][0]:
        raise InvalidTransition(REFUSALS[action] % {"status": agreement.get_status_display()})


def agreement_submit(agreement: Agreement, *, by: User) -> Agreement:
    """Draft → in approval. The terms are checked once more and there must be at least one item; the
    approvers (orders.policy.agreement_approvers) are told."""
    agreement = Agreement.objects.select_related("customer__account_manager").get(pk=agreement.pk)
    _require(agreement, "submit")
    if not policy.may_edit_draft(by, agreement):
        raise PermissionDenied(_("Only its drafter or the customer's account manager submits it."))
    items = _as_dicts(list(agreement.items.select_related("product")))
    errors = term_errors({f: getattr(agreement, f) for f in TERM_FIELDS}, items)
    if not items:
        errors["items"] = [_("List at least one product before submitting the agreement.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _move(agreement, expected=Status.DRAFT, status=Status.IN_APPROVAL, submitted_at=timezone.now(),
              approved_by=None, approved_at=None)  # fmt: skip
        notify(policy.agreement_approvers(agreement), kind="agreement",
               title=_("Agreement to approve: %(title)s") % {"title": agreement.title},
               body=_("%(who)s submitted it for %(customer)s.") % {"who": by, "customer": agreement.customer.name},
               link=detail_link(agreement))  # fmt: skip
    return agreement


def _approval_step(agreement: Agreement, by: User, action: str) -> Agreement:
    agreement = Agreement.objects.select_related("customer__account_manager", "created_by").get(pk=agreement.pk)
    _require(agreement, action)
    if not policy.may_approve_agreement(by, agreement):
        raise PermissionDenied(_("Only the supervisor of the account manager's team approves this agreement."))
    return agreement


def agreement_approve(agreement: Agreement, *, by: User, note: str = "") -> Agreement:
    """The approver's yes: the agreement may now be signed. The drafter is told."""
    agreement = _approval_step(agreement, by, "approve")
    if agreement.approved_by_id:
        raise InvalidTransition(_("It is already approved."))
    with transaction.atomic():
        now = timezone.now()
        if not Agreement.objects.filter(pk=agreement.pk, status=Status.IN_APPROVAL, approved_by=None).update(
            approved_by=by, approved_at=now, approval_note=(note or "").strip()
        ):
            raise InvalidTransition(_("Someone changed this agreement meanwhile; reload and try again."))
        agreement.approved_by, agreement.approved_at, agreement.approval_note = by, now, (note or "").strip()
        notify([agreement.created_by], kind="agreement",
               title=_("Agreement approved: %(title)s") % {"title": agreement.title},
               body=_("%(who)s approved it; it can be signed.") % {"who": by}, link=detail_link(agreement))  # fmt: skip
    return agreement


def agreement_reject(agreement: Agreement, *, by: User, reason: str) -> Agreement:
    """Back to draft with the approver's reason; the drafter is told."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the agreement is sent back.")]})
    agreement = _approval_step(agreement, by, "reject")
    with transaction.atomic():
        _move(agreement, expected=Status.IN_APPROVAL, status=Status.DRAFT, approval_note=reason.strip(),
              approved_by=None, approved_at=None, submitted_at=None)  # fmt: skip
        notify([agreement.created_by], kind="agreement",
               title=_("Agreement sent back: %(title)s") % {"title": agreement.title},
               body=reason.strip(), link=detail_link(agreement))  # fmt: skip
    return agreement


def agreement_sign(agreement: Agreement, *, by: User, signed_on: datetime.date | None = None) -> Agreement:
    """The customer signed (an approved agreement): in approval → signed."""
    agreement = Agreement.objects.select_related("customer").get(pk=agreement.pk)
    _require(agreement, "sign")
    if not policy.may_handle_agreement(by, agreement):
        raise PermissionDenied(_("Only its drafter or the customer's account manager records the signature."))
    if not agreement.approved_by_id:
        raise InvalidTransition(_("It must be approved before it is signed."))
    signed_on = signed_on or timezone.localdate()
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": [_("The signature date cannot be in the future.")]})
    _move(agreement, expected=Status.IN_APPROVAL, status=Status.SIGNED, signed_on=signed_on)
    return agreement


def agreement_activate(agreement: Agreement, *, by: User, starts_on: datetime.date | None = None) -> Agreement:
    """Signed → effective: numbered (AG + 8 digits), starting on `starts_on` (today by default) and ending
    after its term unless an end was agreed; version 1 records it as it took effect."""
    agreement = Agreement.objects.select_related("customer").get(pk=agreement.pk)
    _require(agreement, "activate")
    if not policy.may_handle_agreement(by, agreement):
        raise PermissionDenied(_("Only its drafter or the customer's account manager makes it effective."))
    starts_on = starts_on or agreement.starts_on or timezone.localdate()
    ends_on = agreement.ends_on or end_of_term(starts_on, agreement.term_months)
    if ends_on <= starts_on:
        raise ValidationError({"starts_on": [_("The agreement must end after it starts (starts %(starts)s, ends "
                                               "%(ends)s).") % {"starts": starts_on, "ends": ends_on}]})  # fmt: skip
    with transaction.atomic():
        _move(agreement, expected=Status.SIGNED, status=Status.EFFECTIVE, starts_on=starts_on, ends_on=ends_on,
              effective_at=timezone.now(), number=numbered_code(NUMBER_PREFIX), version=1)  # fmt: skip
        agreement.refresh_from_db(fields=["number"])
        AgreementVersion.objects.create(
            agreement=agreement, version=1, changed_by=by, reason=_("Became effective"), changes={},
            snapshot=snapshot(agreement),
        )  # fmt: skip
    return agreement


def agreement_terminate(agreement: Agreement, *, by: User, reason: str) -> Agreement:
    """Effective → terminated before its end, with a reason (a named editor, the account manager, an admin)."""
    agreement = Agreement.objects.select_related("customer").get(pk=agreement.pk)
    _require(agreement, "terminate")
    if not (policy.may_handle_agreement(by, agreement) or policy.is_agreement_editor(by, agreement)):
        raise PermissionDenied(_("Only a named editor or the customer's account manager terminates it."))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the agreement is terminated.")]})
    _move(agreement, expected=Status.EFFECTIVE, status=Status.TERMINATED, ended_at=timezone.now(),
          end_reason=reason.strip())  # fmt: skip
    return agreement


# --- the daily sweep ---------------------------------------------------------------------------------------


SWEEP_BATCH = 1000  # rows locked and handled per statement group; a step repeats until a batch comes back short


def agreement_sweep(*, today: datetime.date | None = None) -> dict[str, int]:
    """Once a day (Celery beat): renew what renews automatically, expire what else ended, send the 90/60/30-day
    reminders, and ask for renewal opportunities. Set-based: a fixed number of statements per batch of
    SWEEP_BATCH rows, whatever the rows; safe to run twice or concurrently (each step is gated on the state it
    changes and skips rows another run holds)."""
    today = today or timezone.localdate()
    return {
        "renewed": _batched(lambda: _renew(today)),
        "expired": Agreement.objects.filter(status=Status.EFFECTIVE, ends_on__lt=today, auto_renewal=False).update(
            status=Status.EXPIRED, ended_at=timezone.now(), end_reason=pgettext("agreement", "Expired")
        ),
        "reminded": sum(_batched(lambda days=days: _remind(today, days)) for days in sorted(REMINDER_DAYS)),
        "renewals_requested": _batched(lambda: _request_renewals(today)),
    }


def _batched(step: Callable[[], int]) -> int:
    done = 0
    while True:
        count = step()
        done += count
        if count < SWEEP_BATCH:
            return done


def _renew(today: datetime.date) -> int:
    """Effective agreements that renew automatically and have passed their end: a new term, a new version
    "renewed automatically" (by the drafter: the agreement's own clause renews it), and the reminders and the
    renewal request start over for the new end."""
    with transaction.atomic():
        rows = list(
            Agreement.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.EFFECTIVE, auto_renewal=True, ends_on__lt=today)
            .select_related("created_by")
            .prefetch_related("items__product", "editors")
            .order_by("pk")[:SWEEP_BATCH]
        )
        versions = []
        for agreement in rows:
            before = agreement.ends_on
            while agreement.ends_on < today:
                agreement.ends_on = end_of_term(agreement.ends_on + datetime.timedelta(days=1), agreement.term_months)
            agreement.version += 1
            agreement.reminded_days, agreement.renewal_requested_at = None, None
            data = snapshot(agreement, list(agreement.items.all()), [u.pk for u in agreement.editors.all()])
            versions.append(AgreementVersion(
                agreement=agreement, version=agreement.version, changed_by=agreement.created_by,
                reason=_("Renewed automatically"), snapshot=data,
                changes={"ends_on": [before.isoformat(), agreement.ends_on.isoformat()]},
            ))  # fmt: skip
        if rows:
            Agreement.objects.bulk_update(rows, ["ends_on", "version", "reminded_days", "renewal_requested_at"])
            AgreementVersion.objects.bulk_create(versions)
    return len(rows)


def _remind(today: datetime.date, days: int) -> int:
    """The reminder at `days` ahead: agreements ending within `days` days (and after the next closer threshold)
    that were not told at this threshold or a closer one — one message to the account manager and the named
    editors. A run that was missed sends the closest threshold only, once."""
    closer = [d for d in REMINDER_DAYS if d < days]
    lower = today + datetime.timedelta(days=max(closer) + 1) if closer else today
    with transaction.atomic():
        rows = list(
            Agreement.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.EFFECTIVE, ends_on__gte=lower, ends_on__lte=today + datetime.timedelta(days=days))
            .filter(Q(reminded_days__isnull=True) | Q(reminded_days__gt=days))
            .select_related("customer__account_manager")
            .prefetch_related("editors")
            .order_by("pk")[:SWEEP_BATCH]
        )
        if rows:
            notify_many(
                Message([a.customer.account_manager, *a.editors.all()], kind="agreement",
                        title=_("Agreement %(number)s ends in %(days)s days") % {"number": a.number, "days": days},
                        body=_("%(title)s (%(customer)s) ends on %(ends)s.") % {
                            "title": a.title, "customer": a.customer.name, "ends": a.ends_on.isoformat()},
                        link=detail_link(a))
                for a in rows
            )  # fmt: skip
            Agreement.objects.filter(pk__in=[a.pk for a in rows]).update(reminded_days=days)
    return len(rows)


def _request_renewals(today: datetime.date) -> int:
    """Agreements within RENEWAL_WINDOW_DAYS of their end that do not renew by themselves and were not asked
    for yet: the registered handlers open what renewing needs (opportunities: a renewal opportunity), and the
    agreement is stamped so it happens once. A handler that fails rolls the stamp back: the next run retries."""
    if not _renewal_handlers:
        return 0
    with transaction.atomic():
        rows = list(
            Agreement.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.EFFECTIVE, auto_renewal=False, renewal_requested_at__isnull=True,
                    ends_on__gte=today, ends_on__lte=today + datetime.timedelta(days=RENEWAL_WINDOW_DAYS))
            .select_related("customer__account_manager")
            .prefetch_related("items__product")
            .order_by("pk")[:SWEEP_BATCH]
        )  # fmt: skip
        if rows:
            for handler in _renewal_handlers:
                handler(rows)
            Agreement.objects.filter(pk__in=[a.pk for a in rows]).update(renewal_requested_at=timezone.now())
    return len(rows)
