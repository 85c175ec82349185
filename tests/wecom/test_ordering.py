"""One member's work at a time in arrival order; members never wait on each other (ordering.py)."""
from __future__ import annotations

import asyncio

from bot.channels.wecom.ordering import MemberOrder


async def test_a_members_work_runs_one_at_a_time_in_arrival_order_and_other_members_run_meanwhile():
    order, log, running = MemberOrder(), [], {"a": 0, "b": 0}

    async def work(member: str, n: int) -> None:
        async with order.of(member):
            running[member] += 1
            assert running[member] == 1  # never two of one member's at once
            log.append(f"{member}{n} starts")
            await asyncio.sleep(0.01)
            log.append(f"{member}{n} ends")
            running[member] -= 1

    await asyncio.gather(*[work(member, n) for n in range(3) for member in "ab"])
    assert [e for e in log if e.startswith("a")] == [f"a{n} {what}" for n in range(3) for what in ("starts", "ends")]
    assert log[:2] == ["a0 starts", "b0 starts"]  # b did not wait for a
    assert len(order) == 0  # idle members are forgotten


async def test_a_failure_passes_the_turn_on_and_is_forgotten():
    order = MemberOrder()

    async def failing() -> None:
        async with order.of("a"):
            raise RuntimeError("WeCom said no")

    async def next_one() -> str:
        async with order.of("a"):
            return "ran"

    results = await asyncio.gather(failing(), next_one(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] == "ran" and len(order) == 0
