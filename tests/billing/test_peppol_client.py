"""The Peppol access point client (billing/peppol.py) against the fake access point (fakes/peppol/): what a
send and a lookup look like on the wire, typed errors, retries, idempotency. No database."""

import pytest
import requests

from billing import peppol
from billing.peppol import PermanentRejection, RestAccessPoint, TemporaryFailure

SELLER = "0192:937620187"
BUYER = "0192:964338531"
UNREGISTERED = "0192:800000017"


def ubl(
    *,
    root="Invoice",
    customization="urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    profile="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
    seller=SELLER,
    buyer=BUYER,
) -> bytes:
    ns = f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"

    def party(wrapper, participant):
        scheme, value = participant.split(":")
        return (
            f'<cac:{wrapper}><cac:Party><cbc:EndpointID schemeID="{scheme}">{value}</cbc:EndpointID>'
            f"</cac:Party></cac:{wrapper}>"
        )

    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{ns}" xmlns:cbc="{cbc}" xmlns:cac="{cac}">'
        f"<cbc:CustomizationID>{customization}</cbc:CustomizationID><cbc:ProfileID>{profile}</cbc:ProfileID>"
        f"<cbc:ID>1</cbc:ID>{party('AccountingSupplierParty', seller)}{party('AccountingCustomerParty', buyer)}"
        f"</{root}>"
    ).encode()


@pytest.fixture
def ap(peppol_fake):
    return RestAccessPoint(base_url=peppol_fake.peppol_url, token="secret", timeout=2, retries=0)


def send(client, document=None, *, key="k-1", receiver=BUYER, document_type=peppol.INVOICE_DOCUMENT_TYPE):
    return client.send(
        document if document is not None else ubl(),
        sender_id=SELLER,
        receiver_id=receiver,
        document_type=document_type,
        idempotency_key=key,
    )


def test_send_answers_the_message_id_and_the_access_point_keeps_the_document(ap, peppol_fake):
    message_id = send(ap)
    [received] = peppol_fake.peppol.received
    assert message_id == received.message_id and message_id.startswith("fake-ap-")
    assert received.content == ubl()
    assert (received.sender, received.receiver) == (SELLER, BUYER)
    assert received.document_type == peppol.INVOICE_DOCUMENT_TYPE
    assert received.process == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert (received.idempotency_key, received.authorization) == ("k-1", "Bearer secret")


def test_document_types_are_the_peppol_bis_billing_3_identifiers():
    assert peppol.document_type_for("invoice") == (
        "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
    )
    assert peppol.document_type_for("credit_note") == (
        "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##"
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
    )


def test_the_same_idempotency_key_is_not_sent_twice(ap, peppol_fake):
    first = send(ap)
    assert send(ap) == first
    assert len(peppol_fake.peppol.received) == 1
    assert send(ap, key="k-2") != first
    assert len(peppol_fake.peppol.received) == 2


def test_an_idempotency_key_reused_for_another_document_is_refused(ap):
    send(ap)
    with pytest.raises(PermanentRejection) as error:
        send(ap, ubl(root="CreditNote"), document_type=peppol.CREDIT_NOTE_DOCUMENT_TYPE)
    assert error.value.status == 409
    assert error.value.errors == ["This Idempotency-Key was used for another document."]


def test_an_unregistered_receiver_is_a_permanent_rejection(ap, peppol_fake):
    with pytest.raises(PermanentRejection) as error:
        send(ap, ubl(buyer=UNREGISTERED), receiver=UNREGISTERED)
    assert error.value.status == 400
    assert error.value.errors == [
        "The receiver 0192:800000017 cannot receive this document: no Peppol endpoint is registered in the SMP "
        "for this participant."
    ]
    assert peppol_fake.peppol.received == []


@pytest.mark.parametrize(
    ("document", "document_type", "errors"),
    [
        (b"<Invoice><unclosed>", peppol.INVOICE_DOCUMENT_TYPE, ["The document is not well-formed XML"]),
        (
            ubl(customization="urn:cen.eu:en16931:2017"),
            peppol.INVOICE_DOCUMENT_TYPE,
            ["CustomizationID is not Peppol BIS Billing 3.0."],
        ),
        (
            ubl(profile="urn:fdc:peppol.eu:2017:poacc:billing:02:1.0"),
            peppol.INVOICE_DOCUMENT_TYPE,
            ["ProfileID is not urn:fdc:peppol.eu:2017:poacc:billing:01:1.0."],
        ),
        (ubl(root="CreditNote"), peppol.INVOICE_DOCUMENT_TYPE, ["The document type does not match the CreditNote"]),
        (ubl(root="Order"), peppol.INVOICE_DOCUMENT_TYPE, ["The root element {urn:oasis"]),
        (
            ubl(buyer="0192:974760673"),
            peppol.INVOICE_DOCUMENT_TYPE,
            ["The receiver 0192:964338531 is not the document's AccountingCustomerParty (0192:974760673)."],
        ),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', peppol.INVOICE_DOCUMENT_TYPE, ["Document type declarations"]),
    ],
)
def test_the_access_point_refuses_what_is_not_a_bis_billing_3_document(
    ap, peppol_fake, document, document_type, errors
):
    with pytest.raises(PermanentRejection) as error:
        send(ap, document, document_type=document_type)
    assert len(error.value.errors) == len(errors)
    for got, expected in zip(error.value.errors, errors, strict=True):
        assert got.startswith(expected)
    assert str(error.value).startswith("The access point refused the document (HTTP 400): ")
    assert peppol_fake.peppol.received == []


def test_a_5xx_is_a_temporary_failure(ap, peppol_fake):
    peppol_fake.peppol.fail.append("503")
    with pytest.raises(TemporaryFailure) as error:
        send(ap)
    assert str(error.value) == "The access point answered HTTP 503; it will be tried again."
    assert peppol_fake.peppol.received == []


def test_a_timeout_is_a_temporary_failure(peppol_fake):
    peppol_fake.peppol.delay = 1.0
    peppol_fake.peppol.fail.append("timeout")
    client = RestAccessPoint(base_url=peppol_fake.peppol_url, timeout=0.2, retries=0)
    with pytest.raises(TemporaryFailure) as error:
        send(client)
    assert str(error.value) == "The access point did not answer within 0.2 s."


def test_an_access_point_that_cannot_be_reached_is_a_temporary_failure():
    client = RestAccessPoint(base_url="http://127.0.0.1:9/peppol/api", timeout=1, retries=0)
    with pytest.raises(TemporaryFailure) as error:
        send(client)
    assert str(error.value) == "The access point could not be reached (ConnectionError)."


def test_no_access_point_configured_is_a_temporary_failure_saying_so():
    with pytest.raises(TemporaryFailure) as error:
        send(RestAccessPoint(base_url="", retries=0))
    assert str(error.value) == "No Peppol access point is configured (set PEPPOL_AP_BASE_URL)."


def test_the_client_retries_a_503_with_the_same_key_and_sends_once(peppol_fake):
    peppol_fake.peppol.fail.extend(["503", "accept_then_503"])
    client = RestAccessPoint(base_url=peppol_fake.peppol_url, timeout=2, retries=2)
    message_id = send(client)
    assert peppol_fake.peppol.requests == 3
    [received] = peppol_fake.peppol.received
    assert received.message_id == message_id


def test_a_wrong_token_is_refused(peppol_fake):
    peppol_fake.peppol.token = "right"
    with pytest.raises(PermanentRejection) as error:
        send(RestAccessPoint(base_url=peppol_fake.peppol_url, token="wrong", retries=0))
    assert (error.value.status, error.value.errors) == (401, ["Missing or wrong API token."])


def test_lookup_says_who_can_receive_bis_billing_3(ap):
    assert ap.lookup(BUYER) is True
    assert ap.lookup(BUYER, peppol.CREDIT_NOTE_DOCUMENT_TYPE) is True
    assert ap.lookup(BUYER, "urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order##x::2.1") is False
    assert ap.lookup(UNREGISTERED) is False
    assert ap.lookup("0192:123456789") is False  # not a valid organisation number


def test_lookup_when_the_access_point_is_down_is_a_temporary_failure(ap, peppol_fake):
    peppol_fake.set_down("peppol")
    with pytest.raises(TemporaryFailure) as error:
        ap.lookup(BUYER)
    assert str(error.value) == "The access point's participant lookup answered HTTP 503."


def test_the_configured_adapter_is_used(settings, peppol_fake):
    client = peppol.access_point()
    assert isinstance(client, RestAccessPoint)
    assert client.base_url == peppol_fake.peppol_url
    assert client.session.headers["Authorization"] == "Bearer test-ap-token"
    settings.PEPPOL_AP_ADAPTER = "tests.billing.test_peppol_client.RecordingAccessPoint"
    assert isinstance(peppol.access_point(), RecordingAccessPoint)


class RecordingAccessPoint:
    """An adapter of one's own: anything with send() and lookup()."""

    def send(self, document_xml, *, sender_id, receiver_id, document_type, idempotency_key=""):
        return "recorded"

    def lookup(self, participant_id, document_type=peppol.INVOICE_DOCUMENT_TYPE):
        return True


def test_the_fake_is_controlled_and_inspected_over_http_for_the_demo(ap, peppol_fake):
    answer = requests.post(f"{peppol_fake.base_url}/_control/peppol", json={"fail": ["503"]}, timeout=2)
    assert answer.json() == {"fail": ["503"], "received": 0}
    with pytest.raises(TemporaryFailure):
        send(ap)
    message_id = send(ap)
    listing = requests.get(f"{peppol_fake.peppol_url}/v1/documents", headers={"Authorization": "Bearer x"}, timeout=2)
    assert listing.json() == [
        {
            "messageId": message_id,
            "idempotencyKey": "k-1",
            "sender": SELLER,
            "receiver": BUYER,
            "documentType": peppol.INVOICE_DOCUMENT_TYPE,
            "sha256": peppol_fake.peppol.received[0].sha256,
            "size": len(ubl()),
        }
    ]
    requests.post(f"{peppol_fake.base_url}/_control/peppol", json={"reset": True}, timeout=2)
    assert peppol_fake.peppol.received == []
