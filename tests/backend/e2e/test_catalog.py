from urllib.parse import quote

from tests.support.dates import day


async def test_service_centres_list_their_matters(api):
    centres = (await api.get("/centers", "t2001"))["items"]
    assert len(centres) >= 5
    names = {m["name"] for c in centres for m in c["matters"]}
    assert {"公章使用申请", "场地借用", "请假申请(教职工)"} <= names  # a teacher's: no 学生请假


async def test_matters_are_found_by_words_people_use(api):
    for words, expected in [("盖章", "seal_usage"), ("音乐厅", "venue_booking"), ("VPN", "vpn_apply")]:
        found = (await api.get(f"/matters?q={quote(words)}", "t2001"))["items"]
        assert found and found[0]["code"] == expected, (words, found[:3])
    assert (await api.get(f"/matters?q={quote('量子力学')}", "t2001"))["items"] == []


async def test_a_matter_shows_its_form_process_and_approver_candidates(api):
    matter = await api.get("/matters/seal_usage", "t2001")
    assert [f["key"] for f in matter["form"]][:2] == ["seal_type", "document_name"]
    leader = matter["nodes"][0]
    assert leader["choose_approver"] is True
    assert {c["username"] for c in leader["candidates"]} == {"t0001", "t0002", "t0003"}
    assert matter["nodes"][1]["choose_approver"] is False and "candidates" not in matter["nodes"][1]


async def test_a_leader_is_not_offered_as_their_own_approver(api):
    matter = await api.get("/matters/seal_usage", "t0001")
    assert {c["username"] for c in matter["nodes"][0]["candidates"]} == {"t0002", "t0003"}


async def test_unknown_matter_is_not_found(api):
    status, body = await api.call("GET", "/matters/no_such_thing", "t2001")
    assert status == 404 and body["error"]["code"] == "matter_not_found"


async def test_answers_can_be_validated_one_by_one(api):
    ok = await api.post("/matters/seal_usage/validate", "t2001", json={"form": {"copies": "3"}, "partial": True})
    assert ok["form"] == {"copies": 3}
    status, body = await api.call("POST", "/matters/seal_usage/validate", "t2001",
                                  json={"form": {"use_date": day(-1)}, "partial": True})
    assert status == 400 and "不能早于今天" in body["error"]["details"]["fields"]["use_date"]


async def test_the_org_tree_starts_at_the_college(api):
    tree = await api.get("/org/departments", "t2001")
    assert tree["name"] == "浙江艺术职业学院"
    music = next(d for d in tree["children"] if d["name"] == "音乐系")
    assert len(music["children"]) == 2


async def test_people_are_found_by_name_and_department(api):
    both = (await api.get(f"/org/users?q={quote('王芳')}", "t2001"))["items"]
    assert {p["department"] for p in both} == {"党政办公室", "舞蹈系"}
    one = (await api.get(f"/org/users?q={quote('王')}&department=jwc", "t2001"))["items"]
    assert [p["name"] for p in one] == ["王丽华"]
    music = (await api.get("/org/users?department=yyx&limit=100", "t2001"))["items"]
    assert "声乐教研室" in {p["department"] for p in music}  # the subtree is included
    status, _ = await api.call("GET", "/org/users?department=nope", "t2001")
    assert status == 404


async def test_people_are_found_by_pinyin_whole_or_by_initials(api):
    def names(found):
        return {p["name"] for p in found["items"]}

    assert "李明" in names(await api.get("/org/users?q=liming", "t2001"))
    assert "李明" in names(await api.get("/org/users?q=LM&department=jwc", "t2001"))
    assert names(await api.get("/org/users?q=wlh", "t2001")) == {"王丽华"}
    assert names(await api.get("/org/users?q=wangfang", "t2001")) == {"王芳"}
    assert not names(await api.get("/org/users?q=qqqq", "t2001"))


async def test_whole_chinese_sentences_find_their_matter(api):
    for who, sentence, expected in [("t2001", "我想借音乐厅排练", "venue_booking"),
                                    ("t2001", "下周要出差去北京", "business_trip"),
                                    ("s20240101", "老师我要请假", "student_leave"),
                                    ("s20240101", "帮我开个在读证明", "enrollment_certificate")]:
        found = (await api.get(f"/matters?q={quote(sentence)}", who))["items"]
        assert found, sentence
        assert found[0]["code"] == expected, (sentence, found[:3])
        assert len(found) == 1 or found[0]["score"] > found[1]["score"], (sentence, found[:3])


async def test_validate_and_search_refuse_bad_parameters(api):
    status, body = await api.call("POST", "/matters/seal_usage/validate", "t2001",
                                  json={"form": {"copies": 1}, "partial": "yes"})
    assert status == 400 and body["error"]["code"] == "bad_partial"
    status, body = await api.call("POST", "/matters/nope/validate", "t2001", json={"form": {}})
    assert status == 404 and body["error"]["code"] == "matter_not_found"
    status, body = await api.call("GET", f"/org/users?q={'王' * 65}", "t2001")
    assert status == 400 and body["error"]["code"] == "bad_query"
    status, body = await api.call("GET", f"/matters?q={'章' * 101}", "t2001")
    assert status == 400 and body["error"]["code"] == "bad_query"
