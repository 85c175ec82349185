import pytest

from backend.workflow import transitions as t
from backend.errors import Conflict


def test_finished_applications_allow_no_move():
    for state in t.FINISHED_APPLICATION_STATES:
        assert not [move for (source, move) in t.APPLICATION_TRANSITIONS if source == state]


@pytest.mark.parametrize("state,move,after", [
    (t.RUNNING, "return", t.RETURNED), (t.RETURNED, "resubmit", t.RUNNING),
    (t.RUNNING, "terminate", t.TERMINATED), (t.RETURNED, "terminate", t.TERMINATED),
    (t.RUNNING, "finish", t.APPROVED),
])
def test_allowed_application_moves(state, move, after):
    assert t.application_after(state, move) == after


@pytest.mark.parametrize("state,move", [
    (t.APPROVED, "terminate"), (t.TERMINATED, "resubmit"), (t.RUNNING, "resubmit"), (t.RETURNED, "return"),
])
def test_illegal_application_moves_raise(state, move):
    with pytest.raises(Conflict):
        t.application_after(state, move)


def test_a_decided_task_cannot_be_decided_again():
    for move in ("approve", "return", "add_signers"):
        with pytest.raises(Conflict, match="已经办理过"):
            t.task_after(t.APPROVAL, t.DONE, move)


def test_a_waiting_approver_must_hear_the_signers_first():
    with pytest.raises(Conflict, match="等待加签"):
        t.task_after(t.APPROVAL, t.WAITING, "approve")
    assert t.task_after(t.APPROVAL, t.WAITING, "signers_done") == t.PENDING


def test_signers_only_give_opinions():
    assert t.task_after(t.SIGNER, t.PENDING, "sign") == t.DONE
    for move in ("approve", "return", "add_signers"):
        with pytest.raises(Conflict, match="加签人员只能给出意见"):
            t.task_after(t.SIGNER, t.PENDING, move)


@pytest.mark.parametrize("state,move,after", [
    (t.RUNNING, "withdraw", t.RETURNED), (t.RUNNING, "send_back", t.RUNNING),
    (t.RUNNING, "comment", t.RUNNING), (t.RETURNED, "comment", t.RETURNED), (t.RUNNING, "remind", t.RUNNING),
])
def test_the_approval_moves_on_applications(state, move, after):
    assert t.application_after(state, move) == after


@pytest.mark.parametrize("state,move", [
    (t.RETURNED, "withdraw"), (t.APPROVED, "withdraw"), (t.RETURNED, "remind"), (t.APPROVED, "comment"),
    (t.TERMINATED, "comment"), (t.RETURNED, "send_back"),
])
def test_the_approval_moves_refused_on_applications(state, move):
    with pytest.raises(Conflict):
        t.application_after(state, move)


def test_only_a_pending_approval_task_is_transferred_or_delegated():
    assert t.task_after(t.APPROVAL, t.PENDING, "transfer") == t.DONE
    assert t.task_after(t.APPROVAL, t.PENDING, "delegate") == t.WAITING
    for kind, state in ((t.APPROVAL, t.WAITING), (t.APPROVAL, t.DONE), (t.SIGNER, t.PENDING), (t.DELEGATE, t.PENDING)):
        for move in ("transfer", "delegate"):
            with pytest.raises(Conflict):
                t.task_after(kind, state, move)


def test_a_delegate_only_gives_an_opinion():
    assert t.task_after(t.DELEGATE, t.PENDING, "sign") == t.DONE
    with pytest.raises(Conflict, match="受委派人员只能给出意见"):
        t.task_after(t.DELEGATE, t.PENDING, "approve")
