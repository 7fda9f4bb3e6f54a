import pytest

from contracts import lifecycle as lc


def test_the_spekter_path_with_a_dpa():
    state = lc.DRAFT
    for event in ("send", "sign_awaiting_dpa", "dpa_signed", "give_notice", "end"):
        state = lc.move(state, event).to_state
    assert state == lc.ENDED


def test_the_digireq_trial_path():
    assert lc.move(lc.TRIAL, "pause").to_state == lc.PAUSED
    assert lc.move(lc.PAUSED, "reactivate").to_state == lc.ACTIVE
    assert lc.move(lc.PAUSED, "delete").to_state == lc.DELETED


@pytest.mark.parametrize(
    ("state", "event"),
    [(lc.ENDED, "give_notice"), (lc.ACTIVE, "sign"), (lc.DELETED, "reactivate"), (lc.TRIAL, "dpa_signed")],
)
def test_forbidden_moves_say_what_is_allowed(state, event):
    with pytest.raises(lc.ForbiddenTransition) as err:
        lc.move(state, event)
    assert err.value.state == state
    if lc.allowed_events(state):
        assert "it can:" in err.value.message_en
    else:
        assert "nothing more can happen to it" in err.value.message_en


def test_notice_on_an_ended_contract_message():
    with pytest.raises(lc.ForbiddenTransition) as err:
        lc.move(lc.ENDED, "give_notice")
    assert err.value.message_en == "A contract that is 'ended' cannot give notice; nothing more can happen to it."
    assert err.value.message_nb.startswith("En avtale som er «avsluttet» kan ikke si opp")


def test_every_state_and_event_in_the_table_is_named():
    for (source, event), target in lc.TRANSITIONS.items():
        assert source in lc.STATES and target in lc.STATES and event in lc.EVENTS
    assert lc.HAS_ACCESS <= set(lc.STATES) and lc.BILLABLE <= set(lc.STATES)
