"""The password policy's rules and messages, the bounded hashing pool, tokens that name
the credentials version they were issued under."""
import asyncio
import threading

import pytest

from backend.auth.passwords import HashingBusy, HashingPool
from backend.auth.policy import policy_problem
from backend.auth.tokens import issue_token, read_claims, read_token

SECRET = "s" * 48


@pytest.mark.parametrize("password", ["Kunqu-2026", "yueju opera 9", "12345678a", "越剧-Opera"])
def test_passwords_with_eight_characters_of_two_kinds_are_accepted(password):
    assert policy_problem(password, "t2001") is None


@pytest.mark.parametrize("password, problem", [
    ("Ab1-x", "新密码至少需要 8 位"),
    ("x" * 129 + "1", "新密码不能超过 128 位"),
    ("12345678", "新密码须至少包含字母、数字、符号中的两类(不能全是数字或全是字母)"),
    ("abcdefghij", "新密码须至少包含字母、数字、符号中的两类(不能全是数字或全是字母)"),
    (" Secret-99", "新密码首尾不能是空格"),
    ("my-T2001-pw", "新密码不能包含账号"),
    ("Qwer1234", "新密码过于常见,请换一个"),
])
def test_a_password_breaking_a_rule_gets_that_rules_message(password, problem):
    assert policy_problem(password, "t2001") == problem


def test_the_new_password_may_not_be_the_current_one():
    assert policy_problem("Kunqu-2026", "t2001", current="Kunqu-2026") == "新密码不能与当前密码相同"


async def test_the_pool_runs_one_hash_at_a_time_and_refuses_beyond_its_queue():
    pool = HashingPool(concurrency=1, queue=1)
    release, running, most = threading.Event(), [], [0]

    def work():
        running.append(1)
        most[0] = max(most[0], len(running))
        release.wait(5)
        running.pop()
        return "done"

    first, second = asyncio.ensure_future(pool.run(work)), asyncio.ensure_future(pool.run(work))
    await asyncio.sleep(0.05)
    with pytest.raises(HashingBusy):
        await pool.run(work)
    release.set()
    assert await asyncio.gather(first, second) == ["done", "done"] and most[0] == 1
    assert await pool.run(lambda: "again") == "again"  # room again once they are done
    pool.close()


def test_tokens_carry_the_credentials_version():
    token = issue_token(SECRET, 7, "t2001", 60, version=3)
    assert read_claims(SECRET, token) == (7, 3) and read_token(SECRET, token) == 7
    assert read_claims(SECRET, issue_token(SECRET, 7, "t2001", -5)) is None
