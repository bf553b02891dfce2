"""Chinese identifiers: unified social credit codes (GB 32100-2015) and phone numbers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
USCC_FORMAT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def clean_credit_code(value: str | None) -> str | None:
    """Store credit codes upper-cased and trimmed; blank means none."""
    value = (value or "").strip().upper().replace(" ", "")
    return value or None


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """Check character of the 9-character organisation code (GB 11714) inside the USCC (position 17)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def credit_code_problem(code: str) -> str | None:
    """Why a credit code does not conform to GB 32100, or None when it does."""
    if len(code) != 18:
        return str(_("A unified social credit code has 18 characters."))
    if not USCC_FORMAT.match(code):
        return str(_("The code contains characters that are not allowed (I, O, S, V and Z are never used)."))
    if code[17] != uscc_check_char(code[:17]):
        return str(_("The check character does not match: the code is mistyped."))
    return None


def validate_credit_code(code: str) -> None:
    problem = credit_code_problem(code)
    if problem:
        raise ValidationError(problem, code="invalid_credit_code")


def make_credit_code(*, authority: str, region_code: str, body8: str) -> str:
    """Build a conforming code (demo data): authority+type (2), region (6), body (8), org check, USCC check."""
    first17 = f"{authority}{region_code}{body8}{org_code_check_char(body8)}"
    return first17 + uscc_check_char(first17)


def phone_digits(value: str | None) -> str:
    """A phone number reduced to its dialable national form, whatever the formatting.

    '+86 138-0000-1234' → '13800001234'; '0086 571 8888 1234' → '057188881234'; '(0571)88881234' →
    '057188881234'. Fixed-line numbers keep their area code with the leading 0.
    """
    digits = re.sub(r"\D", "", value or "")
    international = False
    if digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and len(digits) >= 12:
        digits, international = digits[2:], True
    if international and not digits.startswith(("0", "1")):
        # +86 571 88881234 drops the trunk prefix of a fixed line; put it back.
        digits = "0" + digits
    return digits


MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def validate_mobile(value: str) -> None:
    if value and not MOBILE_PATTERN.match(phone_digits(value)):
        raise ValidationError(_("Enter an 11-digit mainland mobile number, e.g. 138 0000 1234."), code="invalid_mobile")


def validate_phone(value: str) -> None:
    digits = phone_digits(value)
    if value and not (
        MOBILE_PATTERN.match(digits) or re.match(r"^0\d{9,11}$", digits) or re.match(r"^[48]00\d{7}$", digits)
    ):
        raise ValidationError(
            _("Enter a mobile number or a fixed-line number with its area code, e.g. 0571-8888 1234."),
            code="invalid_phone",
        )
