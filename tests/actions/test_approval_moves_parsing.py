"""What the approval moves read out of a message: a remark's text, and the node of 「退回到…」."""
import asyncio

import pytest

from actions.approval_moves import comment_text
from actions.base import UserFacingError
from actions.tasks import return_target

TASK = {"id": 7, "return_nodes": [{"key": "dept_head", "name": "部门负责人审批"}]}


@pytest.mark.parametrize("said,text", [
    ("备注:原件明天送到", "原件明天送到"), ("添加备注,已电话确认", "已电话确认"), ("SW20261127-0003 备注:原件已送达", "原件已送达"),
    ("帮我备注一下,发票后补", "发票后补"), ("备注", ""),
])
def test_a_remark_is_what_follows_the_word(said, text):
    assert comment_text(said) == text


def target(message: str):
    return asyncio.run(return_target(None, "web:t1402", TASK, message))


def test_a_return_names_a_passed_node_by_part_of_its_name():
    assert target("退回到部门负责人,请核实天数") == (TASK["return_nodes"][0], "请核实天数")
    assert target("退回到部门负责人审批环节") == (TASK["return_nodes"][0], "")


def test_a_return_to_the_applicant_or_without_a_node_is_the_usual_return():
    assert target("退回给申请人,材料不全") == (None, None)
    assert target("退回 附件不全") == (None, None)


def test_a_node_not_passed_is_explained():
    with pytest.raises(UserFacingError, match="「分管校领导」不是这份申请已经过的环节.*部门负责人审批"):
        target("退回到分管校领导,请重新审核")
