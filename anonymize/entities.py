"""The PII entity types the recognizers find (importable without loading Presidio)."""

ENTITIES = frozenset({
    "CN_RESIDENT_ID", "CN_USCC", "CN_BANK_CARD", "CN_MOBILE", "CN_LANDLINE", "CN_LICENSE_PLATE",
    "CN_PASSPORT", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "EMAIL_ADDRESS", "URL", "CN_ADDRESS",
    "PERSON",
})
# Personal information: identifies or relates to a natural person (USCC and URL do not).
PERSONAL_ENTITIES = frozenset({
    "CN_RESIDENT_ID", "CN_BANK_CARD", "CN_MOBILE", "CN_LANDLINE", "CN_LICENSE_PLATE",
    "EMAIL_ADDRESS", "CN_ADDRESS", "PERSON", "CN_PASSPORT", "IP_ADDRESS", "CREDIT_CARD",
    "IBAN_CODE",
})
