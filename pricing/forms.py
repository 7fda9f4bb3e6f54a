"""Forms for plans and the price calculators.

They turn what staff or a customer typed into the documents and requests the services take
(``plan_version_create(document=...)``, ``quote_compute(request=...)``), and put the services'
errors back beside the right field or table row. Deciding is the engine's job, not theirs.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pricing.engine.document import TIERED
from pricing.engine.models import Matrix, Percentage
from pricing.engine.quote import PlanSpec
from tenants.models import Customer, VatTreatment

INT_RE = re.compile(r"^\d+$")


def _clean_number(text: str) -> str:
    """'1 234,50' → '1234.50' (spaces, no-break spaces and a decimal comma allowed)."""
    return text.replace("\u00a0", "").replace(" ", "").replace(",", ".")


def _count(text: str):
    """A typed count for the engine: an int when it is one, None when empty, else the text (the
    engine then says what is wrong with it: '2.5' is not a whole number, '0' is too few)."""
    text = _clean_number(text or "")
    if not text:
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


# ---------------------------------------------------------------- plan version editor


@dataclass
class Row:
    index: int
    values: dict[str, str]
    on_request: bool = False
    errors: list[str] = field(default_factory=list)

    def id(self, table_key: str, name: str) -> str:
        return f"id_{table_key}-{self.index}-{name}"


@dataclass
class Table:
    key: str  # c0 (components[0].tiers), d (licence.d_table), m (licence.m_table)
    title: str
    model_label: str
    price_fields: list[tuple[str, str]]  # (document key, column label)
    rows: list[Row]
    errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or any(r.errors for r in self.rows))


@dataclass
class Value:
    key: str  # c2-amount
    label: str
    value: str
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"id_{self.key}"


MODEL_LABELS = {
    "band": gettext_lazy("Band: one whole amount for the band the quantity falls in"),
    "volume": gettext_lazy("Volume tiers: every unit at the price of the tier reached"),
    "graduated": gettext_lazy("Graduated tiers: each unit at its own tier's price"),
    "flat": gettext_lazy("Fixed price"),
    "per_unit": gettext_lazy("Price per unit"),
    "package": gettext_lazy("Packages"),
    "percentage": gettext_lazy("Percentage of other lines"),
    "licence": gettext_lazy("Licence formula L = PHC × (1 − D) × M × factor, per category"),
    "matrix": gettext_lazy("Table by concurrent users and number of standards"),
    "extra_prints": gettext_lazy("Extra prints, a share of the catalogue price"),
}
SIMPLE_VALUES = {
    "flat": ("amount", gettext_lazy("Amount")),
    "per_unit": ("unit_price", gettext_lazy("Unit price")),
    "package": ("price", gettext_lazy("Package price")),
    "percentage": ("rate", gettext_lazy("Share (0.10 = 10 %)")),
}


def _lang_label(names: dict, lang: str) -> str:
    return (names or {}).get(lang) or (names or {}).get("nb") or ""


class VersionEditor:
    """The tables of a plan version as editable rows, starting from ``base`` (a version's document).

    ``data`` (POST) replaces the rows; ``action`` adds ("add:c0") or removes ("remove:c0-2") a row.
    ``document()`` is the base document with the edited tables, for ``plan_version_create``.
    """

    def __init__(self, base: dict, lang: str, data=None):
        self.base = base
        self.lang = lang
        self.tables: list[Table] = []
        self.values: list[Value] = []
        self.errors: list[str] = []
        for i, comp in enumerate(base.get("components") or []):
            title = _lang_label(comp.get("label"), lang)
            model = comp.get("model")
            if model in TIERED:
                prices = (
                    [("flat_amount", _("Amount"))]
                    if model == "band"
                    else [
                        ("unit_price", _("Unit price")),
                        ("flat_amount", _("Flat amount")),
                    ]
                )
                self.tables.append(
                    Table(f"c{i}", title, str(MODEL_LABELS[model]), prices, self._rows(comp.get("tiers"), prices))
                )
            elif model in SIMPLE_VALUES:
                name, label = SIMPLE_VALUES[model]
                self.values.append(Value(f"c{i}-{name}", f"{title}: {label}", str(comp.get(name) or "")))
        licence = base.get("licence")
        if isinstance(licence, dict):
            for key, value_key, title, label in (
                ("d", "discount", _("Volume discount D by number of standards"), _("Discount D")),
                ("m", "multiplier", _("Multiplier M by concurrent users"), _("Multiplier M")),
            ):
                prices = [(value_key, label)]
                self.tables.append(Table(key, title, "", prices, self._rows(licence.get(f"{key}_table"), prices)))
        if data is not None:
            self._read(data)

    @staticmethod
    def _rows(tiers, prices) -> list[Row]:
        rows = []
        for j, t in enumerate(tiers or []):
            values = {
                "lower": "" if t.get("lower") is None else str(t["lower"]),
                "upper": "" if t.get("upper") is None else str(t["upper"]),
            }
            for name, _label in prices:
                values[name] = "" if t.get(name) is None else str(t[name])
            rows.append(Row(j, values, bool(t.get("on_request"))))
        return rows

    def _read(self, data) -> None:
        for table in self.tables:
            try:
                count = int(data.get(f"{table.key}-count", len(table.rows)))
            except ValueError:
                count = len(table.rows)
            rows = []
            for j in range(min(max(count, 0), 200)):
                prefix = f"{table.key}-{j}-"
                values = {name: (data.get(prefix + name) or "").strip() for name in ("lower", "upper")}
                for name, _label in table.price_fields:
                    values[name] = (data.get(prefix + name) or "").strip()
                rows.append(Row(j, values, data.get(prefix + "on_request") == "on"))
            table.rows = rows
        for value in self.values:
            value.value = (data.get(value.key) or "").strip()

    # ---- row actions (plain form buttons; no JavaScript needed)

    def apply(self, action: str) -> bool:
        """Add or remove a row; True when the action was one of those."""
        verb, _sep, target = action.partition(":")
        if verb == "add":
            table = self._table(target)
            if table is None:
                return False
            last = table.rows[-1] if table.rows else None
            lower = ""
            if last and INT_RE.match(last.values.get("upper", "")):
                lower = str(int(last.values["upper"]) + 1)
            values = {"lower": lower, "upper": "", **{name: "" for name, _label in table.price_fields}}
            table.rows.append(Row(len(table.rows), values))
            return True
        if verb == "remove":
            key, _dash, index = target.rpartition("-")
            table = self._table(key)
            if table is None or not index.isdigit():
                return False
            table.rows = [r for r in table.rows if r.index != int(index)]
            for j, row in enumerate(table.rows):
                row.index = j
            return True
        return False

    def _table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)

    # ---- document and errors

    def document(self) -> dict | None:
        """The edited document; None (with row errors set) when a cell is not even a number."""
        doc = copy.deepcopy(self.base)
        ok = True
        for table in self.tables:
            tiers = []
            for row in table.rows:
                tier: dict = {}
                for name in ("lower", "upper"):
                    text = _clean_number(row.values[name])
                    if name == "upper" and not text:
                        tier[name] = None
                    elif INT_RE.match(text):
                        tier[name] = int(text)
                    else:
                        ok = False
                        what = _("lower bound") if name == "lower" else _("upper bound")
                        row.errors.append(
                            _("Row %(row)s: the %(what)s must be a whole number ≥ 0.")
                            % {"row": row.index + 1, "what": what}
                        )
                for name, label in table.price_fields:
                    text = _clean_number(row.values[name])
                    if not text:
                        continue
                    if not re.fullmatch(r"\d+(\.\d+)?", text):
                        ok = False
                        row.errors.append(
                            _("Row %(row)s: %(what)s must be an amount ≥ 0, e.g. 2892.00.")
                            % {"row": row.index + 1, "what": label}
                        )
                    tier[name] = text
                if row.on_request:
                    tier["on_request"] = True
                tiers.append(tier)
            if table.key == "d":
                doc["licence"]["d_table"] = tiers
            elif table.key == "m":
                doc["licence"]["m_table"] = tiers
            else:
                doc["components"][int(table.key[1:])]["tiers"] = tiers
        for value in self.values:
            index, _dash, name = value.key[1:].partition("-")
            text = _clean_number(value.value)
            if not re.fullmatch(r"\d+(\.\d+)?", text):
                ok = False
                value.errors.append(_("Give an amount ≥ 0, e.g. 1500.00."))
            doc["components"][int(index)][name] = text
        return doc if ok else None

    ROW_FIELD = re.compile(r"^(?:components\[(\d+)\]\.tiers|licence\.(d|m)_table)(?:\[(\d+)\])?")
    VALUE_FIELD = re.compile(r"^components\[(\d+)\]\.(\w+)$")

    def add_errors(self, error: ValidationError) -> None:
        """Put the service's errors on the row, table or value they name; the rest on the whole form."""
        items = error.message_dict.items() if hasattr(error, "error_dict") else [("", error.messages)]
        for name, msgs in items:
            match = self.ROW_FIELD.match(name or "")
            if match:
                table = self._table(f"c{match.group(1)}" if match.group(1) is not None else match.group(2))
                if table is not None:
                    if match.group(3) is not None and int(match.group(3)) < len(table.rows):
                        table.rows[int(match.group(3))].errors.extend(msgs)
                    else:
                        table.errors.extend(msgs)
                    continue
            match = self.VALUE_FIELD.match(name or "")
            if match:
                value = next((v for v in self.values if v.key == f"c{match.group(1)}-{match.group(2)}"), None)
                if value is not None:
                    value.errors.extend(msgs)
                    continue
            self.errors.extend(msgs)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or any(t.has_errors for t in self.tables) or any(v.errors for v in self.values))

    def error_list(self) -> list[tuple[str, str]]:
        """(anchor id, message) for the error summary."""
        out = [("", m) for m in self.errors]
        for table in self.tables:
            out += [(f"table-{table.key}", f"{table.title}: {m}") for m in table.errors]
            for row in table.rows:
                out += [(row.id(table.key, "lower"), f"{table.title}: {m}") for m in row.errors]
        for value in self.values:
            out += [(value.id, f"{value.label}: {m}") for m in value.errors]
        return out


class VersionMetaForm(forms.Form):
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("The first day the new prices apply. Versions in force are never changed."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class VersionImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Exported version (JSON)"),
        help_text=gettext_lazy("A file downloaded with “Export”. A plan that does not exist yet is created."),
    )

    def clean_file(self):
        import json

        raw = self.cleaned_data["file"].read()
        try:
            return json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise forms.ValidationError(
                _("The file is not a JSON document; export a version and upload that file.")
            ) from exc


# ---------------------------------------------------------------- calculator


@dataclass
class Needs:
    """What a plan asks for, read from its price document."""

    schools: bool = False
    quantities: list[tuple[str, str]] = field(default_factory=list)  # (key, label)
    standards: bool = False
    concurrent_users: bool = False
    addons: list[tuple[str, str]] = field(default_factory=list)
    categories: list[tuple[str, str]] = field(default_factory=list)
    intervals: tuple[str, ...] = ("year",)
    first_period: str = "none"

    @classmethod
    def of(cls, spec: PlanSpec, lang: str) -> Needs:
        from pricing.engine.quote import UNIT_BY_NAME

        needs = cls(intervals=spec.intervals, first_period=spec.first_period)
        for comp in spec.components:
            label = comp.label_nb if lang == "nb" else comp.label_en
            if comp.model == "extra_prints":
                continue
            if comp.addon:
                needs.addons.append((comp.code, label))
            if comp.model == "licence":
                needs.standards = needs.concurrent_users = True
            elif isinstance(comp.model, Matrix):
                needs.concurrent_users = True
            elif isinstance(comp.model, Percentage):
                continue
            elif comp.quantity == "per_school":
                needs.schools = True
            elif comp.quantity not in ("fixed", "extra_prints") and comp.quantity not in dict(needs.quantities):
                unit = UNIT_BY_NAME.get(comp.unit)
                text = (unit.nb if lang == "nb" else unit.en) if unit else comp.quantity
                needs.quantities.append((comp.quantity, text[:1].upper() + text[1:]))
        needs.categories = [
            (c.code, f"{c.code} {c.name_nb if lang == 'nb' else c.name_en}") for c in spec.categories.values()
        ]
        return needs


INTERVAL_LABELS = {
    "month": gettext_lazy("Monthly"),
    "quarter": gettext_lazy("Quarterly"),
    "year": gettext_lazy("Yearly"),
}


class CalculatorForm(forms.Form):
    """The plain fields of the calculator; schools and standards are rows (see :class:`QuoteRows`)."""

    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=None, required=False)
    interval = forms.ChoiceField(label=gettext_lazy("Billing interval"))
    start = forms.DateField(
        label=gettext_lazy("Start date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Gives the price of the first, shorter period."),
    )
    vat_treatment = forms.ChoiceField(label=gettext_lazy("VAT"), required=False)
    public_sector = forms.ChoiceField(
        label=gettext_lazy("Buyer"),
        required=False,
        choices=[
            ("", gettext_lazy("From the customer")),
            ("yes", gettext_lazy("Public sector")),
            ("no", gettext_lazy("Private")),
        ],
    )
    quoted_on = forms.DateField(
        label=gettext_lazy("Quote date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Procurement thresholds and plan versions as of this date."),
    )
    concurrent_users = forms.CharField(
        label=gettext_lazy("Concurrent users"), required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    standard_codes = forms.CharField(
        label=gettext_lazy("Standards by catalogue code"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=gettext_lazy("One document code per line, e.g. NS-EN 1090-2:2018."),
    )
    addons = forms.MultipleChoiceField(
        label=gettext_lazy("Add-ons"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, needs: Needs, portal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs = needs
        self.fields["interval"].choices = [(i, INTERVAL_LABELS.get(i, i)) for i in needs.intervals]
        self.fields["vat_treatment"].choices = [("", _("From the customer (else 25 %)")), *VatTreatment.choices]
        self.fields["addons"].choices = needs.addons
        for key, label in needs.quantities:
            self.fields[f"qty_{key}"] = forms.CharField(
                label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
            )
        if portal:
            for name in ("customer", "vat_treatment", "public_sector", "quoted_on"):
                del self.fields[name]
        else:
            self.fields["customer"].queryset = Customer.objects.filter(is_active=True).order_by("name")
            self.fields["customer"].empty_label = _("No customer (anonymous quote)")
        if not needs.concurrent_users:
            del self.fields["concurrent_users"]
        if not needs.standards:
            del self.fields["standard_codes"]
        if not needs.addons:
            del self.fields["addons"]
        if len(needs.intervals) == 1:
            self.fields["interval"].widget = forms.HiddenInput()

    @property
    def quantity_fields(self):
        return [self[f"qty_{key}"] for key, _label in self.needs.quantities]


class QuoteRows:
    """Schools (name, pupils) and standards by category and price, as rows with add/remove."""

    SCHOOL_FIELDS = ("name", "pupils")
    STANDARD_FIELDS = ("code", "category", "price")

    def __init__(self, needs: Needs, data=None, initial_schools: list[dict] | None = None):
        self.needs = needs
        self.schools: list[Row] = []
        self.standards: list[Row] = []
        self.school_errors: list[str] = []
        self.standard_errors: list[str] = []
        if data is not None:
            self.schools = self._read(data, "school", self.SCHOOL_FIELDS)
            self.standards = self._read(data, "standard", self.STANDARD_FIELDS)
        else:
            self.schools = [
                Row(j, {"name": s.get("name", ""), "pupils": str(s.get("pupils") or "")})
                for j, s in enumerate(initial_schools or [])
            ]
        if needs.schools and not self.schools:
            self.schools = [Row(0, {"name": "", "pupils": ""})]
        if needs.standards and not self.standards:
            self.standards = [Row(0, {"code": "", "category": "", "price": ""})]

    @staticmethod
    def _read(data, prefix: str, names) -> list[Row]:
        try:
            count = int(data.get(f"{prefix}-count", 0))
        except ValueError:
            count = 0
        return [
            Row(j, {n: (data.get(f"{prefix}-{j}-{n}") or "").strip() for n in names})
            for j in range(min(max(count, 0), 500))
        ]

    def apply(self, action: str) -> bool:
        verb, _sep, target = action.partition(":")
        rows, names = (
            (self.schools, self.SCHOOL_FIELDS)
            if target.startswith("school")
            else (
                self.standards,
                self.STANDARD_FIELDS,
            )
        )
        if verb == "add" and target in ("school", "standard"):
            rows.append(Row(len(rows), dict.fromkeys(names, "")))
            return True
        if verb == "remove":
            key, _dash, index = target.rpartition("-")
            if key not in ("school", "standard") or not index.isdigit():
                return False
            kept = [r for r in rows if r.index != int(index)]
            for j, row in enumerate(kept):
                row.index = j
            rows[:] = kept
            return True
        return False

    def request_parts(self) -> tuple[list[dict], list[dict], list[int], list[int]]:
        """(schools, standard rows, UI row of each school, UI row of each standard); empty rows skipped."""
        schools, school_rows = [], []
        if self.needs.schools:
            for row in self.schools:
                if not row.values["name"] and not row.values["pupils"]:
                    continue
                schools.append(
                    {"name": row.values["name"] or f"#{row.index + 1}", "pupils": _count(row.values["pupils"])}
                )
                school_rows.append(row.index)
        standards, standard_rows = [], []
        if self.needs.standards:
            for row in self.standards:
                code, category, price = row.values["code"], row.values["category"], _clean_number(row.values["price"])
                if not (code or category or price):
                    continue
                standards.append({"code": code or None, "category": category or None, "price": price or None})
                standard_rows.append(row.index)
        return schools, standards, school_rows, standard_rows
