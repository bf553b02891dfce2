"""Customer import writes (services) for data stewards: preview every row of a file read by
customers.imports.reader (errors, likely duplicates, repeats inside the file), then import the accepted rows in
one transaction — all or nothing — through customers.services.customer_create."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from channels.models import User
from customers import policy, services
from customers.duplicates import find_duplicates
from customers.identifiers import clean_credit_code
from customers.models import Customer, Industry, Region
from customers.naming import name_key


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list = field(default_factory=list)  # DuplicateCandidate, or a note about a repeat in the file
    repeats_line: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def needs_confirmation(self) -> bool:
        return self.ok and (bool(self.duplicates) or self.repeats_line is not None)


def _require_steward(by: User) -> None:
    if not policy.is_data_steward(by):
        raise PermissionDenied(_("Only a data steward may import customers."))


def _to_fields(values: dict[str, str], errors: dict[str, list[str]]) -> dict:
    """Turn text cells into service arguments, collecting per-field errors."""
    fields: dict = {}
    for key in ("name", "short_name", "address", "postal_code", "phone", "email", "website"):
        if values.get(key):
            fields[key] = values[key]
    if values.get("credit_code"):
        fields["credit_code"] = clean_credit_code(values["credit_code"])
    lookups = (
        ("region", lambda v: Region.objects.get(code=v)),
        ("industry", lambda v: Industry.objects.get(code=v.upper()[:1])),
        ("parent", lambda v: Customer.objects.live().get(code=v.upper())),
        ("account_manager", lambda v: User.objects.get(username=v, is_active=True)),
    )
    messages = {
        "region": _("Unknown region code (GB/T 2260, 6 digits)."),
        "industry": _("Unknown industry section (GB/T 4754, a letter A–T)."),
        "parent": _("No customer has this code."),
        "account_manager": _("No active staff member has this login."),
    }
    for key, lookup in lookups:
        if values.get(key):
            try:
                fields[key] = lookup(values[key])
            except (Customer.DoesNotExist, Region.DoesNotExist, Industry.DoesNotExist, User.DoesNotExist):
                errors.setdefault(key, []).append(messages[key])
    if values.get("employees"):
        try:
            fields["employees"] = int(float(values["employees"]))
        except (ValueError, OverflowError):  # "abc", "inf"
            errors.setdefault("employees", []).append(_("Enter a whole number."))
    if values.get("tier"):
        tier = values["tier"].upper()
        if tier not in {"A1", "A2", "B1", "B2", "C", "D"}:
            errors.setdefault("tier", []).append(_("A tier is one of A1, A2, B1, B2, C, D."))
        else:
            fields["tier"] = tier
    return fields


def customer_import_preview(*, rows: list[dict[str, str]], by: User) -> list[ImportRow]:
    """Validate every row without writing: field errors, likely duplicates in the database and
    rows that repeat an earlier row of the same file."""
    _require_steward(by)
    result: list[ImportRow] = []
    seen: dict[tuple, int] = {}
    for index, values in enumerate(rows, start=2):  # line 1 is the header
        row = ImportRow(line=index, values=values)
        fields = _to_fields(values, row.errors)
        candidate = Customer(**fields)
        try:
            services.validate_customer(candidate, by=by)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                row.errors.setdefault(key, []).extend(messages)
        if row.ok:
            row.duplicates = find_duplicates(
                name=candidate.name, credit_code=candidate.credit_code, phone=candidate.phone, parent=candidate.parent
            )
            key = name_key(candidate.name)
            for marker in ((key.core, key.region), ("credit", candidate.credit_code)):
                if marker[1] and marker in seen:
                    row.repeats_line = seen[marker]
                seen.setdefault(marker, index)
        result.append(row)
    return result


def customer_import(*, rows: list[dict[str, str]], by: User, confirmed_lines: set[int]) -> int:
    """Import every valid row; rows with likely duplicates only when their line is confirmed.
    One transaction: if any accepted row fails now (data changed since the preview), nothing is
    written and the error says which line."""
    checked = customer_import_preview(rows=rows, by=by)
    if any(not row.ok for row in checked):
        raise ValidationError(_("Some rows have errors; correct the file and upload it again."))
    accepted = [row for row in checked if not row.needs_confirmation or row.line in confirmed_lines]
    with transaction.atomic():
        for row in accepted:
            fields = _to_fields(row.values, {})
            try:
                services.customer_create(by=by, confirm_not_duplicate=True, reason=_("Imported"), **fields)
            except ValidationError as exc:
                raise ValidationError(
                    _("Line %(line)d: %(error)s") % {"line": row.line, "error": "; ".join(exc.messages)}
                ) from exc
    return len(accepted)
