"""Index series and values (pricing/index_services.py): the known series, the fetch from SSB (the fake),
the monthly task and the command, and values entered by hand, isolated per tenant down to PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from config.beat import BEAT_SCHEDULE
from pricing import index_data, index_services, ssb, tasks
from pricing.models import IndexSeries, IndexValue, IndexValueOverride
from tenants.audit import Actor
from tenants.models import AuditEvent
from tenants.tenancy import tenant_context
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
d = dt.date
AS_OF = d(2026, 12, 4)
ALL = ["kpi-2015", "kpi-2025", "kpi-services-wages-2015", "kpi-services-wages-2025"]


def value(code: str, year: int, month: int) -> Decimal | None:
    row = IndexValue.objects.filter(series__code=code, month=d(year, month, 1)).first()
    return row.value if row else None


def values(code: str) -> dict[dt.date, Decimal]:
    return dict(IndexValue.objects.filter(series__code=code).values_list("month", "value"))


def raw(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


# ---------------------------------------------------------------- the known series


def test_series_ensure_creates_the_known_series_once():
    first = index_services.index_series_ensure()
    again = index_services.index_series_ensure()
    assert [s.pk for s in first] == [s.pk for s in again]
    assert sorted(IndexSeries.objects.values_list("code", flat=True)) == sorted(ALL)
    kpi = IndexSeries.objects.get(code="kpi-2015")
    assert (kpi.index_code, kpi.table, kpi.base, kpi.base_year, kpi.closed_after) == (
        "kpi",
        "03013",
        "2015=100",
        2015,
        "2025M12",
    )
    assert kpi.query == {"Konsumgrp": ["TOTAL"], "ContentsCode": ["KpiIndMnd"]}
    assert (kpi.short_nb, kpi.short_en) == ("KPI", "CPI")
    assert kpi.name_nb == "Konsumprisindeksen (KPI), totalindeks"
    assert kpi.name_en == "Consumer price index (CPI), all-item"
    new = IndexSeries.objects.get(code="kpi-2025")
    assert (new.index_code, new.table, new.base, new.base_year, new.closed_after) == (
        "kpi",
        "14709",
        "2025=100",
        2025,
        "",
    )
    wages = IndexSeries.objects.get(code="kpi-services-wages-2015")
    assert (wages.index_code, wages.table, wages.closed_after) == ("kpi-services-wages", "11117", "2025M12")
    assert wages.query == {"Leveringssektor": ["B221"], "ContentsCode": ["LevIndMnd"]}
    assert wages.short_nb == "KPI tjenester hvor arbeidskraft dominerer"
    assert wages.short_en == "CPI services with wages as the dominant factor"
    successor = IndexSeries.objects.get(code="kpi-services-wages-2025")
    assert (successor.table, successor.base, successor.base_year) == ("14702", "2025=100", 2025)


def test_series_ensure_repairs_a_changed_definition_and_keeps_the_fetch_state():
    index_services.index_series_ensure()
    fetched = timezone.now()
    IndexSeries.objects.filter(code="kpi-2015").update(table="99999", fetched_at=fetched, fetch_error="old")
    index_services.index_series_ensure()
    kpi = IndexSeries.objects.get(code="kpi-2015")
    assert (kpi.table, kpi.fetched_at, kpi.fetch_error) == ("03013", fetched, "old")


# ---------------------------------------------------------------- fetching


def test_backfill_stores_every_published_month(ssb_fake):
    report = index_services.index_fetch(as_of=AS_OF)
    assert [s.code for s in report.series] == ALL
    assert len(report.by_code("kpi-2015").new) == 132  # 2015M01–2025M12
    assert len(report.by_code("kpi-2025").new) == 136  # 2015M01–2026M04 (the recording)
    assert len(report.by_code("kpi-services-wages-2015").new) == 127  # 2015M01–2025M07
    assert value("kpi-2015", 2025, 10) == D("138.7")
    assert value("kpi-2025", 2025, 10) == D("100.7")
    assert value("kpi-services-wages-2015", 2024, 9) == D("128.1")
    assert value("kpi-services-wages-2015", 2025, 8) is None  # not published in the recording: not guessed
    row = IndexValue.objects.get(series__code="kpi-2015", month=d(2025, 10, 1))
    assert row.source == "SSB table 03013 (JSON-stat2), fetched 2026-12-04"
    kpi = IndexSeries.objects.get(code="kpi-2015")
    assert kpi.fetched_at is not None and kpi.fetch_error == ""


def test_a_table_ssb_does_not_answer_is_recorded_calmly_and_the_others_are_fetched(ssb_fake):
    report = index_services.index_fetch(as_of=AS_OF)
    successor = report.by_code("kpi-services-wages-2025")
    assert successor.error == f"SSB has no table 14702 at {ssb_fake.ssb_url} (HTTP 404)"
    assert not report.ok
    row = IndexSeries.objects.get(code="kpi-services-wages-2025")
    assert row.fetch_error == successor.error and row.fetched_at is None
    assert values("kpi-services-wages-2025") == {}
    assert report.by_code("kpi-2015").ok and report.by_code("kpi-services-wages-2015").ok
    assert "kpi-services-wages-2025 (table 14702): not fetched: SSB has no table 14702" in "\n".join(report.lines())


def test_fetch_is_idempotent(ssb_fake):
    index_services.index_fetch(as_of=AS_OF)
    count = IndexValue.objects.count()
    stamps = dict(IndexValue.objects.values_list("pk", "fetched_at"))
    again = index_services.index_fetch(as_of=AS_OF)
    assert again.new_count == 0 and again.changed_count == 0
    assert again.by_code("kpi-2015").unchanged == 132
    assert IndexValue.objects.count() == count
    assert dict(IndexValue.objects.values_list("pk", "fetched_at")) == stamps
    assert again.by_code("kpi-2015").line() == "kpi-2015 (table 03013): nothing new; latest month 2025M12."


def test_months_not_ended_and_after_the_series_closed_are_ignored(ssb_fake):
    # on 5 November 2025 October has ended; November has not
    report = index_services.index_fetch(as_of=d(2025, 11, 5), series_codes=["kpi-2015", "kpi-2025"])
    assert max(values("kpi-2015")) == d(2025, 10, 1)
    assert len(report.by_code("kpi-2015").new) == 130
    assert report.by_code("kpi-2015").ignored == 2
    assert max(values("kpi-2025")) == d(2025, 10, 1)
    # the closed 2015 = 100 series never takes a month after December 2025
    series = IndexSeries.objects.get(code="kpi-2015")
    series.closed_after = "2025M06"
    series.save()
    IndexValue.objects.filter(series=series).delete()
    report = index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015"])
    index_services.index_series_ensure()  # put the definition back
    assert max(values("kpi-2015")) == d(2025, 6, 1)
    assert report.by_code("kpi-2015").ignored == 6


def test_the_last_n_months(ssb_fake):
    report = index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015"], months=3)
    assert [m for m, _v in report.by_code("kpi-2015").new] == [(2025, 10), (2025, 11), (2025, 12)]
    assert sorted(values("kpi-2015")) == [d(2025, 10, 1), d(2025, 11, 1), d(2025, 12, 1)]
    with pytest.raises(ValidationError):
        index_services.index_fetch(as_of=AS_OF, months=0)


def test_a_value_ssb_changed_is_updated_and_reported(ssb_fake):
    index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015"])
    IndexValue.objects.filter(series__code="kpi-2015", month=d(2025, 10, 1)).update(value=D("138.5"), source="old")
    report = index_services.index_fetch(as_of=d(2026, 12, 11), series_codes=["kpi-2015"])
    fetched = report.by_code("kpi-2015")
    assert fetched.changed == [((2025, 10), D("138.500"), D("138.7"))]
    assert fetched.new == []
    assert "2025M10 changed by SSB from 138.5 to 138.7" in fetched.line()
    row = IndexValue.objects.get(series__code="kpi-2015", month=d(2025, 10, 1))
    assert (row.value, row.source) == (D("138.7"), "SSB table 03013 (JSON-stat2), fetched 2026-12-11")


def test_ssb_down_changes_no_value_records_the_error_and_a_rerun_works(ssb_fake):
    # given stored values, one of which SSB has since revised
    index_services.index_fetch(as_of=AS_OF)
    IndexValue.objects.filter(series__code="kpi-2015", month=d(2025, 10, 1)).update(value=D("138.5"))
    before = {code: values(code) for code in ALL}
    fetched_at = IndexSeries.objects.get(code="kpi-2015").fetched_at
    # when SSB is down for the monthly fetch
    ssb_fake.set_down("ssb")
    report = index_services.index_fetch(as_of=d(2026, 12, 11), months=12)
    # then every series failed in words, no value changed, and each series says why
    assert not report.ok and report.new_count == 0 and report.changed_count == 0
    assert {code: values(code) for code in ALL} == before
    kpi = IndexSeries.objects.get(code="kpi-2015")
    assert kpi.fetch_error == "SSB answered HTTP 503"
    assert kpi.fetched_at == fetched_at
    assert report.by_code("kpi-2015").line() == (
        "kpi-2015 (table 03013): not fetched: SSB answered HTTP 503. Its values are unchanged."
    )
    # when SSB is back, the rerun stores the revision and clears the error
    ssb_fake.set_down("ssb", False)
    rerun = index_services.index_fetch(as_of=d(2026, 12, 11), months=12)
    assert rerun.by_code("kpi-2015").changed == [((2025, 10), D("138.500"), D("138.7"))]
    kpi.refresh_from_db()
    assert kpi.fetch_error == "" and kpi.fetched_at > fetched_at


def test_a_value_that_cannot_be_an_index_fails_that_series_alone(ssb_fake, monkeypatch):
    index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015", "kpi-2025"])
    before = values("kpi-2015")
    real = ssb.SsbClient.series

    def series(self, table, selection, **kwargs):
        answer = real(self, table, selection, **kwargs)
        if table == "03013":  # SSB answers a zero among the months, and a new month
            answer.values.update({(2025, 10): D("0"), (2026, 1): D("139.5")})
        return answer

    monkeypatch.setattr(ssb.SsbClient, "series", series)
    IndexValue.objects.filter(series__code="kpi-2025", month=d(2026, 4, 1)).delete()
    report = index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015", "kpi-2025"])
    assert report.by_code("kpi-2015").error.startswith("SSB answered 0 for 2025M10, which is not an index")
    assert values("kpi-2015") == before
    assert IndexSeries.objects.get(code="kpi-2015").fetch_error == report.by_code("kpi-2015").error
    assert [m for m, _v in report.by_code("kpi-2025").new] == [(2026, 4)]


def test_dry_run_writes_nothing(ssb_fake):
    report = index_services.index_fetch(as_of=AS_OF, dry_run=True)
    assert report.dry_run and len(report.by_code("kpi-2015").new) == 132
    assert IndexSeries.objects.count() == 0 and IndexValue.objects.count() == 0
    assert report.lines()[0] == "Index values from SSB as of 2026-12-04 (dry run: nothing stored):"
    # and on stored values: a change and an error are reported, neither is written
    index_services.index_fetch(as_of=AS_OF)
    IndexValue.objects.filter(series__code="kpi-2015", month=d(2025, 10, 1)).update(value=D("138.5"))
    IndexSeries.objects.filter(code="kpi-services-wages-2025").update(fetch_error="")
    before = list(IndexValue.objects.order_by("pk").values_list("pk", "value", "source", "fetched_at"))
    again = index_services.index_fetch(as_of=AS_OF, dry_run=True)
    assert again.by_code("kpi-2015").changed == [((2025, 10), D("138.500"), D("138.7"))]
    assert again.by_code("kpi-services-wages-2025").error
    assert list(IndexValue.objects.order_by("pk").values_list("pk", "value", "source", "fetched_at")) == before
    assert IndexSeries.objects.get(code="kpi-services-wages-2025").fetch_error == ""


def test_unknown_series_code(ssb_fake):
    with pytest.raises(ValidationError, match="Unknown index series kpi-1998"):
        index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-1998"])
    assert IndexSeries.objects.count() == 0


def test_the_rules_read_the_fetched_values(ssb_fake):
    index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015", "kpi-2025"])
    series = index_data.load_series("kpi", overrides=False)
    assert [s.code for s in series] == ["kpi-2025", "kpi-2015"]  # the newer base first
    assert series[0].values[(2025, 10)] == D("100.7") and series[1].values[(2025, 10)] == D("138.7")


# ---------------------------------------------------------------- task, beat, command


def test_task_through_eager_celery(ssb_fake):
    result = tasks.index_fetch_task.delay(as_of="2026-12-11").get()
    assert result["as_of"] == "2026-12-11" and result["dry_run"] is False
    by_code = {s["code"]: s for s in result["series"]}
    assert by_code["kpi-2015"]["new"] == [f"2025M{m:02d}" for m in range(1, 13)]  # SSB's latest 12 months
    assert by_code["kpi-2025"]["latest"] == "2026M04"
    assert by_code["kpi-services-wages-2025"]["error"].startswith("SSB has no table 14702")
    assert tasks.index_fetch_task.delay(as_of="2026-12-11").get()["series"][0]["new"] == []


def test_beat_fetches_monthly_after_ssb_publishes():
    entry = BEAT_SCHEDULE["index-fetch-monthly"]
    assert entry["task"] == "pricing.tasks.index_fetch_task"
    schedule = entry["schedule"]
    assert (schedule.day_of_month, schedule.hour, schedule.minute) == ({11}, {9}, {0})


def test_command_prints_the_report_in_words(ssb_fake):
    out, err = StringIO(), StringIO()
    call_command(
        "index_fetch", "--as-of", "2026-12-04", "--series", "kpi-2015", "--months", "3", stdout=out, stderr=err
    )
    assert out.getvalue().splitlines() == [
        "Index values from SSB as of 2026-12-04:",
        "kpi-2015 (table 03013): 3 new months (2025M10–2025M12); latest month 2025M12.",
    ]
    assert err.getvalue() == ""


def test_command_dry_run_backfill_and_errors(ssb_fake):
    out, err = StringIO(), StringIO()
    call_command("index_fetch", "--as-of", "2026-12-04", "--dry-run", stdout=out, stderr=err)
    text = out.getvalue()
    assert "(dry run: nothing stored)" in text
    assert "kpi-2015 (table 03013): 132 new months (2015M01–2025M12)" in text
    assert "kpi-services-wages-2025 (table 14702): not fetched: SSB has no table 14702" in text
    assert "Some series were not fetched" in err.getvalue()
    assert IndexValue.objects.count() == 0
    with pytest.raises(CommandError, match="Unknown index series nope"):
        call_command("index_fetch", "--as-of", "2026-12-04", "--series", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="not a date"):
        call_command("index_fetch", "--as-of", "4.12.2026", stdout=StringIO())


# ---------------------------------------------------------------- values entered by hand


@pytest.fixture
def fetched(ssb_fake):
    index_services.index_fetch(as_of=AS_OF, series_codes=["kpi-2015", "kpi-services-wages-2015"])


@pytest.fixture
def staff(tenant_a):
    return Actor.for_user(UserFactory(email="okonomi@alpha.no"))


def enter(staff, **overrides):
    data = {
        "series": "kpi-services-wages-2015",
        "month": "2025M08",  # not in SSB's recording
        "value": "133.0",
        "note": "SSB's release of 10 September 2025",
        "today": AS_OF,
    }
    data.update(overrides)
    return index_services.index_value_enter(actor=staff, **data)


def test_hand_entry_for_a_month_ssb_has_not_given(fetched, tenant_a, staff):
    with tenant_context(tenant_a):
        override = enter(staff)
        assert (override.tenant_id, override.month, override.value) == (tenant_a.pk, d(2025, 8, 1), D("133.0"))
        assert override.entered_by == "okonomi@alpha.no"
        event = AuditEvent.objects.get()
        assert (event.action, event.actor_label, event.object_type, event.object_id) == (
            "index_value_override.create",
            "okonomi@alpha.no",
            "indexvalueoverride",
            str(override.pk),
        )
        assert event.changes["value"] == [None, "133.0"]
        assert event.changes["month"] == [None, "2025-08-01"]
        # the rules read it where SSB's own value is missing
        wages = next(s for s in index_data.load_series("kpi-services-wages") if s.code == "kpi-services-wages-2015")
        assert wages.values[(2025, 8)] == D("133.0") and wages.values[(2025, 7)] == D("132.7")


def test_entering_a_month_again_replaces_it_with_an_audit_row(fetched, tenant_a, staff):
    with tenant_context(tenant_a):
        first = enter(staff)
        second = enter(staff, value="133,2", note="corrected")
        assert second.pk == first.pk and second.value == D("133.2") and second.note == "corrected"
        update = AuditEvent.objects.get(action="index_value_override.update")
        assert update.changes["value"] == ["133.000", "133.2"]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"value": "0"}, "value", "positivt tall"),
        ({"value": "-1.5"}, "value", "positivt tall"),
        ({"value": "abc"}, "value", "Skriv indeksen som et tall"),
        ({"value": "12345678"}, "value", "sju sifre"),
        ({"value": "133.0001"}, "value", "tre etter desimaltegnet"),
        ({"month": "2026M12", "today": AS_OF}, "month", "2026M12 er ikke over ennå"),
        ({"month": "2027-03"}, "month", "2027M03 er ikke over ennå"),
        ({"month": "august"}, "month", "Ikke en måned"),
        ({"month": "2026M01"}, "month", "slutter med 2025M12"),
        ({"month": "2024M09"}, "month", "SSBs verdi for 2024M09 er allerede lagret (128,1)"),
        ({"series": "kpi-1998"}, "series", "Ukjent indeksserie"),
        ({"note": "  "}, "note", "Skriv hvor verdien kommer fra"),
    ],
)
def test_bad_hand_entries_are_refused_and_nothing_is_written(fetched, tenant_a, staff, overrides, field, words):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as caught:
        enter(staff, **overrides)
    assert words in caught.value.message_dict[field][0]
    with tenant_context(tenant_a):
        assert IndexValueOverride.objects.count() == 0
        assert AuditEvent.objects.count() == 0


def test_a_bad_value_does_not_hide_a_bad_month(fetched, tenant_a, staff):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as caught:
        enter(staff, value="0", month="2027M01")
    assert set(caught.value.message_dict) == {"value", "month"}


def test_messages_in_english(fetched, tenant_a, staff):
    with translation.override("en"), tenant_context(tenant_a), pytest.raises(ValidationError) as caught:
        enter(staff, series="kpi-2015", month="2025M10")
    assert caught.value.message_dict["month"] == [
        "SSB's value for 2025M10 is already stored (138.7); it is used, not one entered by hand."
    ]


def test_delete_a_hand_entered_value_with_an_audit_row(fetched, tenant_a, staff):
    with tenant_context(tenant_a):
        override = enter(staff)
        index_services.index_value_override_delete(actor=staff, override=override)
        assert IndexValueOverride.objects.count() == 0
        event = AuditEvent.objects.get(action="index_value_override.delete")
        assert event.changes["value"] == ["133.000", None]


def test_another_tenant_cannot_see_or_touch_a_hand_entered_value(fetched, tenant_a, tenant_b, staff):
    with tenant_context(tenant_a):
        override = enter(staff)
        assert raw("SELECT count(*) FROM pricing_indexvalueoverride") == [(1,)]
    with tenant_context(tenant_b):
        # the ORM, the rules' loader and raw SQL under row-level security all see nothing
        assert IndexValueOverride.objects.count() == 0
        assert IndexValueOverride.unscoped.filter(pk=override.pk).count() == 0
        wages = next(s for s in index_data.load_series("kpi-services-wages") if s.code == "kpi-services-wages-2015")
        assert (2025, 8) not in wages.values
        assert raw("SELECT count(*) FROM pricing_indexvalueoverride WHERE id = %s", [override.pk]) == [(0,)]
        assert raw("SELECT count(*) FROM pricing_indexvalueoverride WHERE tenant_id = %s", [tenant_a.pk]) == [(0,)]
        assert raw("UPDATE pricing_indexvalueoverride SET value = 1 WHERE id = %s RETURNING id", [override.pk]) == []
        with pytest.raises(IndexValueOverride.DoesNotExist):
            index_services.index_value_override_delete(actor=Actor.system("intruder"), override=override)
        # B may enter its own value for the same month
        own = enter(Actor.system("beta staff"), value="140")
        assert own.tenant_id == tenant_b.pk
    without_tenant = raw("SELECT count(*) FROM pricing_indexvalueoverride")
    assert without_tenant == [(0,)]
    with tenant_context(tenant_a):
        assert IndexValueOverride.objects.get().value == D("133.0")
        assert AuditEvent.objects.filter(action__startswith="index_value_override").count() == 1
