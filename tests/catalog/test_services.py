"""Catalogue services: the standards CSV import reports every bad row and imports nothing then."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from catalog import services
from catalog.models import Standard, StandardPrice
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def categories(tenant_a):
    with tenant_context(tenant_a):
        for code, nb, en in (("1", "Norske", "Norwegian"), ("2", "ISO", "ISO")):
            services.category_save(actor=ACTOR, data={"code": code, "name_nb": nb, "name_en": en})
    return tenant_a


def test_import_creates_standards_with_prices_for_the_year(categories):
    text = (
        "code,title,category,price,withdrawn_on\n"
        "NS 3420,Beskrivelsestekster,1,1250.00,\n"
        'ISO 9001,Quality,2,"980,50",2025-06-30\n'
    )
    with tenant_context(categories):
        result = services.standards_import_csv(actor=ACTOR, text=text, year=2026)
        assert (result.created, result.updated, result.prices) == (2, 0, 2)
        iso = Standard.objects.get(code="ISO 9001")
        assert iso.withdrawn_on == dt.date(2025, 6, 30)
        assert StandardPrice.objects.get(standard=iso, year=2026).price == Decimal("980.50")
        # Next year's prices are a second import; the standards are not duplicated.
        services.standards_import_csv(actor=ACTOR, text=text.replace("1250.00", "1300.00"), year=2027)
        assert Standard.objects.count() == 2
        assert StandardPrice.objects.get(standard__code="NS 3420", year=2027).price == Decimal("1300.00")


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(categories):
    text = (
        "code,title,category,price\n"
        "NS 1,Ok,1,100\n"
        "NS 2,No category,,100\n"
        "NS 3,Bad price,1,abc\n"
        "NS 1,Duplicate,1,100\n"
        "NS 5,Unknown category,9,100\n"
    )
    with tenant_context(categories), translation.override("en"):
        audit_before = AuditEvent.objects.count()
        with pytest.raises(ValidationError) as err:
            services.standards_import_csv(actor=ACTOR, text=text, year=2026)
        messages = err.value.message_dict["file"]
        assert [m.split(":")[0] for m in messages] == ["Line 3", "Line 4", "Line 5", "Line 6"]
        assert "every standard needs a category" in messages[0]
        assert "'abc'" in messages[1]
        assert "also on line 2" in messages[2]
        assert "unknown category 9" in messages[3]
        assert Standard.objects.count() == 0
        assert AuditEvent.objects.count() == audit_before


def test_missing_columns_are_named(categories):
    with tenant_context(categories), translation.override("en"), pytest.raises(ValidationError, match="price"):
        services.standards_import_csv(actor=ACTOR, text="code,title,category\nX,Y,1\n", year=2026)
