import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from originality import text

LESSON = ("教学目标：1.认识本课生字，会写“秋、雨”等字。2.正确、流利、有感情地朗读课文，背诵第二自然段。"
          "3.感受秋雨的美好，体会作者对秋天的喜爱之情。教学重点：朗读课文，感受秋雨的美。"
          "教学过程：一、谈话导入。同学们，秋天到了，秋雨悄悄地来了，它给大地带来了什么呢？"
          "二、初读课文，整体感知。自由读课文，读准字音，读通句子。三、精读课文，品味语言。"
          "秋天的雨，是一把钥匙，它带着清凉和温柔，轻轻地，轻轻地，趁你没留意，把秋天的大门打开了。")
OTHER = ("教学目标：理解正数和负数的意义，会用正数和负数表示具有相反意义的量。教学重点：正负数的意义。"
         "教学过程：一、情境引入。观察温度计，零上5摄氏度记作+5℃，零下5摄氏度记作-5℃。"
         "二、探究新知。在生活中，具有相反意义的量有哪些？收入与支出，上升与下降，盈利与亏损。"
         "三、巩固练习。完成课本第3页练习，说一说每个数表示的意义。四、课堂小结。")


def test_normalize_keeps_positions():
    norm, where = text.normalize("秋 天，的雨！Ａ")
    assert norm == "秋天的雨a"
    assert [("秋 天，的雨！Ａ")[i] for i in where] == ["秋", "天", "的", "雨", "Ａ"]


def test_a_copy_with_edits_matches_and_an_unrelated_text_does_not():
    edited = LESSON.replace("同学们", "小朋友们").replace("，", "、") + "四、布置作业：摘抄喜欢的句子。"
    sa, sb, so = text.sign(LESSON), text.sign(edited), text.sign(OTHER)
    assert text.estimated_similarity(sa, sb) > 0.6
    assert set(sa.bands) & set(sb.bands)  # the LSH index finds it
    assert text.estimated_similarity(sa, so) < 0.1
    assert not set(sa.bands) & set(so.bands)
    match = text.compare(LESSON, edited)
    assert match.similarity > 0.7
    assert any("秋天的雨是一把钥匙" in p.text.replace("，", "").replace("、", "") for p in match.passages)
    assert text.compare(LESSON, OTHER).passages == ()


def test_passages_are_shown_as_written_in_both_texts():
    a = "前言部分完全不同的内容。" + LESSON[40:120] + "结尾也不一样。"
    b = "另一份文档的开头：" + LESSON[40:120]
    match = text.compare(a, b)
    assert len(match.passages) == 1
    p = match.passages[0]
    assert a[p.a_start:p.a_end] == p.text and b[p.b_start:p.b_end] == p.text
    assert p.text.startswith("背诵第二自然段") and p.text.endswith("它给")  # punctuation at the edges is not part of it


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=2**31))
def test_band_collision_probability_is_low_for_unrelated_random_texts(seed):
    rnd = random.Random(seed)
    alphabet = "天地人你我他秋雨春风数学语文正负加减乘除山水花草鸟虫鱼日月星"
    a = "".join(rnd.choice(alphabet) for _ in range(400))
    b = "".join(rnd.choice(alphabet) for _ in range(400))
    assert text.estimated_similarity(text.sign(a), text.sign(b)) < 0.2


def test_short_texts_are_not_comparable():
    assert not text.sign("第一课").comparable
    assert text.sign(LESSON).comparable


@pytest.mark.parametrize("kept", [0.9, 0.7])
def test_containment_of_a_part_copied_into_a_longer_text(kept):
    part = LESSON[: int(len(LESSON) * kept)]
    match = text.compare(part, OTHER + part + OTHER)
    assert match.containment > 0.95
