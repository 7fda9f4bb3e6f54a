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
