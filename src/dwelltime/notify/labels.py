"""Names of the personal-data categories in Japanese and English, as letters and drafts print them."""

from __future__ import annotations

from dwelltime.scope.contract import PII_CATEGORIES

PII_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "person_name": "氏名",
        "email": "メールアドレス",
        "phone": "電話番号",
        "postal_address": "住所",
        "my_number": "個人番号（マイナンバー）",
        "passport": "旅券番号",
        "bank_account": "銀行口座情報",
        "payment_card": "クレジットカード番号",
        "date_of_birth": "生年月日",
        "health": "健康に関する情報（要配慮個人情報）",
    },
    "en": {
        "person_name": "Names",
        "email": "E-mail addresses",
        "phone": "Telephone numbers",
        "postal_address": "Postal addresses",
        "my_number": "Japanese Individual Numbers (My Number)",
        "passport": "Passport numbers",
        "bank_account": "Bank account details",
        "payment_card": "Payment card numbers",
        "date_of_birth": "Dates of birth",
        "health": "Health information (special category)",
    },
}

#: Categories whose leak can lead straight to financial loss (APPI enforcement rules Art. 7(ii)).
FINANCIAL = ("bank_account", "payment_card")
#: Special-care-required (APPI Art. 2(3)) / special category (GDPR Art. 9).
SPECIAL = ("health",)
#: Identifiers that enable impersonation.
IDENTITY = ("my_number", "passport", "date_of_birth")


def pii_rows(pii: dict[str, int], language: str) -> list[tuple[str, int]]:
    """(label, count) for every category with a count above zero, in report order."""
    labels = PII_LABELS[language]
    return [(labels[c], int(pii.get(c, 0))) for c in PII_CATEGORIES if int(pii.get(c, 0)) > 0]
