"""Pytest fixtures for the local fakes of outside services (see fakes/server.py)."""

import pytest

from fakes.server import FakeServer


@pytest.fixture(scope="session")
def fake_services():
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def brreg_fake(fake_services, settings):
    """Brønnøysund served by the fake; up at the start of every test."""
    settings.BRREG_BASE_URL = fake_services.brreg_url
    settings.OUTSIDE_SERVICE_RETRIES = 0
    fake_services.set_down("brreg", False)
    yield fake_services
    fake_services.set_down("brreg", False)


@pytest.fixture(autouse=True)
def _no_real_brreg(settings):
    """No test reaches the internet: without brreg_fake the registry URL goes nowhere."""
    settings.BRREG_BASE_URL = "http://127.0.0.1:9/brreg-not-configured-in-this-test"


@pytest.fixture
def peppol_fake(fake_services, settings):
    """The Peppol access point served by the fake, empty and healthy at the start of every test.

    ``peppol_fake.peppol.received`` is what it received; ``peppol_fake.peppol.fail`` the failures to
    answer the next sends with ("503", "accept_then_503", "timeout")."""
    settings.PEPPOL_AP_ADAPTER = "billing.peppol.RestAccessPoint"
    settings.PEPPOL_AP_BASE_URL = fake_services.peppol_url
    settings.PEPPOL_AP_TOKEN = "test-ap-token"
    settings.OUTSIDE_SERVICE_RETRIES = 0
    fake_services.peppol.reset()
    fake_services.set_down("peppol", False)
    yield fake_services
    fake_services.peppol.reset()
    fake_services.set_down("peppol", False)


@pytest.fixture(autouse=True)
def _no_real_peppol(settings):
    """No test reaches a real access point: without peppol_fake the AP URL goes nowhere."""
    settings.PEPPOL_AP_BASE_URL = "http://127.0.0.1:9/peppol-not-configured-in-this-test"


@pytest.fixture
def ssb_fake(fake_services, settings):
    """SSB's statistics API served by the fake (recorded tables 03013, 14709, 11117); up at the start of every test."""
    settings.SSB_BASE_URL = fake_services.ssb_url
    settings.OUTSIDE_SERVICE_RETRIES = 0
    fake_services.set_down("ssb", False)
    yield fake_services
    fake_services.set_down("ssb", False)


@pytest.fixture(autouse=True)
def _no_real_ssb(settings):
    """No test reaches the internet: without ssb_fake the SSB URL goes nowhere."""
    settings.SSB_BASE_URL = "http://127.0.0.1:9/ssb-not-configured-in-this-test"
