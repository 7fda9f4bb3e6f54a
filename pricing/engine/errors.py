from __future__ import annotations


class PricingError(ValueError):
    """Input the engine cannot price. ``field`` says where, the messages say what to fix."""

    def __init__(self, message_en: str, *, field: str = "non_field_errors", message_nb: str | None = None):
        super().__init__(message_en)
        self.field = field
        self.message_en = message_en
        self.message_nb = message_nb or message_en

    def message(self, lang: str = "en") -> str:
        return self.message_nb if lang == "nb" else self.message_en
