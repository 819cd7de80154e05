"""People, places and organisations from tokens, the gazetteer and merge rules."""

from __future__ import annotations

import random
from datetime import date

import pytest

from transforms import names
from transforms.entities import Entity, extract_entities
from transforms.names import is_place_token
from transforms.sentences import split_sentences
from transforms.tagging import Token, tokenize


def _names(text: str, nlp) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    sentences = split_sentences(text, [0])
    tokens = tokenize(text, sentences, tagger=nlp.tagger)
    entities: list[Entity] = extract_entities(
        text,
        sentences,
        tokens,
        pub_date=date(2026, 6, 15),
        places=nlp.places,
        surnames=nlp.surnames,
        gazetteer=nlp.gazetteer,
    )
    return [
        (e.entity_type, e.text, e.normalized)
        for e in entities
        if e.entity_type in ("PERSON", "LOC", "ORG")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Titles and roles around names: the name alone is the person.
        ("湖北省广播电视局局长张世华表示。", ("PERSON", "张世华", "张世华")),
        ("研究员薛洪言认为。", ("PERSON", "薛洪言", "薛洪言")),
        # Organisation suffixes and branches: one ORG, the longest.
        ("交通银行辽宁省分行近日投放贷款。", ("ORG", "交通银行辽宁省分行", "交通银行辽宁省分行")),
        ("商务部消费促进司公布数据。", ("ORG", "商务部消费促进司", "商务部消费促进司")),
        # The gazetteer: regulators, exchanges, banks, places jieba mistypes.
        ("证监会发布新规。", ("ORG", "证监会", "证监会")),
        ("深交所回复问询。", ("ORG", "深交所", "深交所")),
        ("他在香港特别行政区工作。", ("LOC", "香港特别行政区", "香港特别行政区")),
        (
            "第九届全国人民代表大会开幕。",
            ("ORG", "第九届全国人民代表大会", "第九届全国人民代表大会"),
        ),
        # Transliterated names have no Chinese surname.
        ("克林顿总统发表讲话。", ("PERSON", "克林顿", "克林顿")),
    ],
)
def test_name_is_found_whole(text: str, expected: tuple[str, str, str], nlp) -> None:  # type: ignore[no-untyped-def]
    assert expected in _names(text, nlp)


def test_nested_names_give_one_mention(nlp) -> None:  # type: ignore[no-untyped-def]
    # 辽宁省 inside the branch's name is not a LOC of its own.
    assert _names("交通银行辽宁省分行近日投放贷款。", nlp) == [
        ("ORG", "交通银行辽宁省分行", "交通银行辽宁省分行")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("中美关系持续改善。", [("LOC", "中", "中国"), ("LOC", "美", "美国")]),
        ("中方表示欢迎。", [("LOC", "中", "中国")]),
        ("访华期间。", [("LOC", "华", "中国")]),
    ],
)
def test_country_abbreviations_are_one_loc_each(text: str, expected, nlp) -> None:  # type: ignore[no-untyped-def]
    assert _names(text, nlp) == expected


@pytest.mark.parametrize("text", ["今天有雷阵雨。", "谢谢大家。", "城市上市入口。"])
def test_common_words_the_dictionary_tags_as_names_are_not_names(text: str, nlp) -> None:  # type: ignore[no-untyped-def]
    assert _names(text, nlp) == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [("辽宁省", True), ("浦东新区", True), ("北京", True), ("城市", False), ("省", False)],
)
def test_is_place_token(word: str, expected: bool) -> None:
    assert is_place_token(word, frozenset({"北京"})) is expected


@pytest.mark.parametrize("word", ["微短剧", "短剧贷", "农商行", "城商行", "完片保险"])
def test_business_vocabulary_stays_one_token(word: str, nlp) -> None:  # type: ignore[no-untyped-def]
    text = f"今年{word}发展迅速。"
    assert word in [w for w, _ in nlp.tagger.tag(text)]


def test_a_place_before_an_organisation_is_part_of_its_name(nlp) -> None:  # type: ignore[no-untyped-def]
    assert ("ORG", "湖北省广播电视局", "湖北省广播电视局") in _names(
        "湖北省广播电视局局长张世华表示。", nlp
    )


def _listed_by_runs(tokens: list[Token], gazetteer: dict[str, str], text: str) -> dict:
    """The gazetteer rule as written: of the runs of up to six tokens of one sentence
    starting at a token, the longest whose text is a listed name."""
    found = {}
    for i, tok in enumerate(tokens):
        for n in range(min(names._MAX_GAZETTEER_TOKENS, len(tokens) - i), 0, -1):
            last = tokens[i + n - 1]
            if last.sentence_idx == tok.sentence_idx and text[tok.start : last.end] in gazetteer:
                found[i] = (n, gazetteer[text[tok.start : last.end]])
                break
    return found


def test_gazetteer_names_are_the_longest_runs_of_tokens_that_are_listed() -> None:
    """Names of several lengths sharing first characters, cut into tokens anywhere, across
    sentence ends and blanks, longer than six tokens, and cut short by the text's end."""
    gazetteer = {
        "中国": "LOC",
        "中国人民银行": "ORG",
        "中国人民银行上海总部": "ORG",
        "人民": "LOC",
        "上海": "LOC",
        "上海证券交易所": "ORG",
        "交易所": "ORG",
        "中信证券": "ORG",
    }
    pieces = [*gazetteer, "中", "国人", "民银行", "上", "海证券", "总部", "的", " "]
    rng = random.Random(20260615)
    found = 0
    for _ in range(2000):
        text, tokens, sentence = "", [], 0
        for piece in rng.choices(pieces, k=rng.randrange(1, 25)):
            if piece == " ":
                text += piece
                continue
            # Cut anywhere, and now and then a sentence ends between two tokens.
            cuts = sorted(rng.sample(range(1, len(piece)), rng.randrange(len(piece))))
            at = 0
            for cut in [*cuts, len(piece)]:
                start = len(text) + at
                tokens.append(Token(sentence, piece[at:cut], "n", start, start + cut - at))
                sentence += rng.random() < 0.1
                at = cut
            text += piece
        listed = names._gazetteer_mentions(tokens, gazetteer, text)
        assert listed == _listed_by_runs(tokens, gazetteer, text), text
        found += len(listed)
    assert found > 2000
