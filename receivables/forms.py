"""Forms of the collections pages (back-office): a bank file, holds, the unmatched queue, default cases."""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_BANK_FILE = 50 * 1024 * 1024  # 50 MB: a camt.054 of 100 000 payments is about 40 MB
BANK_FILE_SUFFIXES = (".xml", ".txt", ".ocr", ".dat")


class BankFileForm(forms.Form):
    file = forms.FileField(
        label=_("Bank file"),
        help_text=_(
            "A camt.054 credit notification (.xml) or a Nets OCR giro file (.txt or .ocr) from the bank. "
            "A file that was imported before books nothing."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = PurePath(upload.name or "").suffix.lower()
        if suffix not in BANK_FILE_SUFFIXES:
            raise forms.ValidationError(
                _("Choose a camt.054 file (.xml) or an OCR giro file (.txt or .ocr); %(name)s is neither.")
                % {"name": upload.name}
            )
        if upload.size > MAX_BANK_FILE:
            raise forms.ValidationError(_("The file is larger than 50 MB; ask the bank for smaller files."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class HoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Why on hold"),
        max_length=500,
        help_text=_("E.g. what the customer disputes. No reminders, fees, interest invoices or stop while on hold."),
    )


class ReleaseForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


class MatchForm(forms.Form):
    invoice_number = forms.IntegerField(label=_("Invoice number"), min_value=1)
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


class ResolveForm(forms.Form):
    how = forms.ChoiceField(
        label=_("What was done"),
        choices=[("refund", _("Refunded to the payer")), ("credit", _("Kept as credit on the customer's account"))],
    )  # sent by the button pressed
    note = forms.CharField(label=_("Note"), max_length=500, help_text=_("Say what was done with the money."))


class CloseCaseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why close the case"),
        max_length=200,
        help_text=_("E.g. an agreed payment plan. Service comes back if it was stopped."),
    )
