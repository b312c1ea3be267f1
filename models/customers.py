"""Recognising one customer across complaints: a key from their contact (an e-mail
address lower-cased, a phone number's digits) or, failing that, their name."""

from __future__ import annotations

import re
import unicodedata

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"^[\d\s()+./-]{6,}$")
MIN_PHONE_DIGITS = 6
KEY_LENGTH = 200


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def contact_key(contact: str) -> str:
    """`Jane.Roe@Example.com ` → `email:jane.roe@example.com`, `+44 (20) 7946-0000` →
    `phone:442079460000`; anything else folded; "" for nothing."""
    folded = _folded(contact)
    if not folded:
        return ""
    email = EMAIL.search(folded)
    if email:
        return f"email:{email.group(0)}"[:KEY_LENGTH]
    digits = re.sub(r"\D", "", folded)
    if PHONE.match(folded) and len(digits) >= MIN_PHONE_DIGITS:
        return f"phone:{digits}"[:KEY_LENGTH]
    return f"contact:{folded}"[:KEY_LENGTH]


def customer_key(*, contact: str, name: str) -> str:
    """The contact's key, else `name:<folded name>`, else "" (an unknown customer)."""
    if key := contact_key(contact):
        return key
    folded = _folded(name)
    return f"name:{folded}"[:KEY_LENGTH] if folded else ""


def keys_for(text: str) -> list[str]:
    """What someone asking about a customer may mean by `text`: their contact, or their name."""
    keys = [contact_key(text)]
    if not keys[0].startswith(("email:", "phone:")):
        keys.append(customer_key(contact="", name=text))
    return [key for key in keys if key]
