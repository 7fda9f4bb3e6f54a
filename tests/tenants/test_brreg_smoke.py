import pytest

from tenants import brreg


def test_lookup_through_the_fake(brreg_fake):
    info = brreg.lookup("937 620 187")
    assert info.name == "PÅVAKT AS"
    assert info.organisation_form == "AS"
    assert info.is_active


def test_unknown_and_down(brreg_fake):
    with pytest.raises(brreg.OrgNotFound):
        brreg.lookup("937620195")
    brreg_fake.set_down("brreg")
    with pytest.raises(brreg.RegistryUnavailable):
        brreg.lookup("937620187")
