"""People, places and organisations from the tagger's tokens, a gazetteer and merge rules.

jieba's POS tags find many names but split long ones (`交通银行` `辽宁省` `分行`), mistype
others (`香港特别行政区` as an organisation) and tag some common words as names. Mentions
here are built on token boundaries, so each one covers whole tokens.

Nested names follow one convention: a span is one mention, the longest that the rules
allow. `交通银行辽宁省分行` is one ORG, not ORG 交通银行 plus LOC 辽宁省; `中国共产党第十五次
全国代表大会` is one ORG. Country abbreviations run together are one LOC per character
(`中美` is 中 and 美), normalised to the full name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from transforms.tagging import Token

# Single characters that stand for a country or a Chinese region in compounds.
ABBREVIATIONS = {
    "中": "中国", "美": "美国", "俄": "俄罗斯", "日": "日本", "韩": "韩国", "朝": "朝鲜",
    "英": "英国", "法": "法国", "德": "德国", "意": "意大利", "加": "加拿大", "澳": "澳大利亚",
    "印": "印度", "巴": "巴基斯坦", "越": "越南", "欧": "欧洲", "港": "香港", "台": "台湾",
    "京": "北京", "沪": "上海", "津": "天津", "渝": "重庆", "粤": "广东", "华": "中国",
    "墨": "墨西哥", "葡": "葡萄牙", "非": "非洲", "波": "波兰", "荷": "荷兰", "阿": "阿拉伯",
}  # fmt: skip
# A single abbreviation tagged as a place or an abbreviation (`美`/ns, `俄`/j) is one;
# these few are too often something else alone (中 middle, 非 not, 阿 a prefix).
_NOT_ALONE = frozenset("中非波阿")
# Two-character words of an abbreviation and a side or a movement: 中方, 美军, 访华, 驻港.
_ABBREVIATION_SIDES = frozenset("方军人侨胞")
_ABBREVIATION_VERBS = frozenset("访来驻赴抵在离返援对")
# Generic heads after a place inside one token: `中华民族`, `亚太地区`, `两岸关系`.
_PLACE_HEADS = frozenset(
    {"民族", "人民", "地区", "关系", "经济", "各国", "国家", "政府", "两国",
     "同胞", "人", "籍", "方面"}
)  # fmt: skip
# Words after a person's name inside one token: `邓小平理论`, `江主席`, `周恩来总理`.
_AFTER_NAME = (
    "理论", "思想", "同志", "主义", "主席", "总理", "副总理", "总书记", "书记", "总统", "委员长",
    "部长", "省长", "市长", "董事长", "总裁", "总经理", "行长", "局长", "院长", "主任", "教授",
    "先生", "女士", "大使",
)  # fmt: skip
_AFTER_NAME_SET = frozenset(_AFTER_NAME)
# Last characters of the endings `_inner_name` looks for: a token ending otherwise has none.
_INNER_NAME_LAST = frozenset(e[-1] for e in _PLACE_HEADS | _AFTER_NAME_SET)
# Party congresses and plenums: 十五大, 十四大.
_CONGRESS = re.compile(r"^(?:十[一二三四五六七八九]?|[一二三四五六七八九])大$")
# What may follow a run of abbreviations inside one token: `中美关系`, `中俄两国`.
_ABBREVIATION_TAILS = frozenset(
    {"", "关系", "两国", "三国", "双边", "合作", "贸易", "经贸", "友好", "之间", "两岸"}
)

_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
_NAME_TAGS = _PERSON_TAGS | {"ns", "nt"}
# Characters of transliterated foreign names (克林顿, 普里马科夫): a tagged name made only
# of these is a person even without a Chinese surname.
_TRANSLITERATION = frozenset(
    "阿埃艾安奥巴邦贝本比彼宾波伯博布查达戴丹德登迪蒂顿多厄恩法菲费芬夫弗福盖戈格古哈海汉"
    "豪赫胡华霍基吉加杰金卡凯坎康柯科克肯库拉莱赖兰劳勒雷里利莉林琳隆卢鲁伦罗洛马玛迈麦曼"
    "梅蒙米明莫默穆纳奈南内尼纽努诺帕潘佩皮普奇齐恰乔切琼萨塞桑瑟森沙尚舍施史斯松苏索塔泰"
    "坦汤特滕托瓦万旺威韦维温沃乌西希谢辛休雅亚扬耶伊因英尤约泽扎詹兹佐略茨丝娜娃妮露黛"
)
_PERSON_LENGTHS = (2, 4)
_FOREIGN_LENGTHS = (3, 8)

# Words ending an organisation's name: what follows a bank, a ministry or a place in
# `交通银行辽宁省分行`, `商务部消费促进司`, `美国中国商会`.
ORG_SUFFIXES = frozenset(
    {
        "分行", "支行", "分公司", "子公司", "总公司", "公司", "集团", "银行", "证券", "基金",
        "保险", "信托", "委员会", "委", "局", "司", "处", "厅", "总局", "办公室", "中心",
        "协会", "学会", "商会", "联合会", "同学会", "研究院", "研究所", "大学", "学院", "医院",
        "法院", "检察院", "党委", "市委", "县委", "省委", "议会", "参议院", "众议院",
        "国会", "军区", "全国代表大会", "代表大会", "常委会", "筹委会", "主席团", "出版社",
        "交易所", "事务所", "研究中心", "管委会", "联社", "合作社", "队", "女队", "男队",
        "代表团", "代表队", "部", "内阁", "办事处", "村委会", "纪委",
    }
)  # fmt: skip
# Tags of tokens that may sit inside an organisation's name between its head and suffix.
_INSIDE_ORG = frozenset({"n", "nz", "vn", "ns", "nt", "j", "an", "b", "nr"})
_MAX_ORG_TOKENS = 5
_ORDINAL_CHARS = frozenset("第届次一二三四五六七八九十百零〇两")
_MAX_GAZETTEER_TOKENS = 6
_PLACE_SUFFIXES = tuple("省市县区镇乡村州盟旗岛湾")
_MIN_SUFFIXED_PLACE = 3

# Common words jieba's dictionary tags as person names.
_NOT_PEOPLE = frozenset(
    {
        "祝贺", "谢谢", "贺词", "贺辞", "卓越", "蓝图", "杜绝", "范畴", "雷阵雨",
        "严肃处理", "高达", "高潮", "金融", "常务", "明显", "向往", "温暖", "万元",
        "安全", "成都", "汤圆", "尤伯杯", "叶片", "于是", "时任", "应邀", "连续",
        "石油", "黄金", "江山", "林业", "马上", "卫星", "顾客", "卢布", "黄淮", "严格遵守",
    }
)  # fmt: skip


@dataclass(frozen=True)
class NameMention:
    entity_type: str
    start: int
    end: int
    normalized: str


def _gazetteer_mentions(
    tokens: Sequence[Token], gazetteer: Mapping[str, str], text: str
) -> dict[int, tuple[int, str]]:
    """Longest gazetteer name starting at each token: {first token: (tokens, type)}.

    The names a token may start are looked up by its first character, longest first, and
    a name counts where it ends with one of the next `_MAX_GAZETTEER_TOKENS` tokens of its
    sentence: the longest such name is the one of the most tokens. Trying each run of
    tokens instead took a slice and a lookup for every run of up to six."""
    found: dict[int, tuple[int, str]] = {}
    if not gazetteer:
        return found
    lengths_by_first = _name_lengths(gazetteer)
    count = len(tokens)
    for i, tok in enumerate(tokens):
        lengths = lengths_by_first.get(tok.token[0])
        if lengths is None:
            continue
        start = tok.start
        last = min(i + _MAX_GAZETTEER_TOKENS, count) - 1
        for size in lengths:
            entity_type = gazetteer.get(text[start : start + size])
            if entity_type is None:
                continue
            end = start + size
            j = i
            while j < last and tokens[j].end < end:
                j += 1
            if tokens[j].end == end and tokens[j].sentence_idx == tok.sentence_idx:
                found[i] = (j - i + 1, entity_type)
                break
    return found


_lengths_of: tuple[Mapping[str, str], dict[str, list[int]]] | None = None


def _name_lengths(gazetteer: Mapping[str, str]) -> dict[str, list[int]]:
    """The lengths of the gazetteer's names by first character, longest first (kept for
    the last gazetteer given: a run has one)."""
    global _lengths_of
    if _lengths_of is None or _lengths_of[0] is not gazetteer:
        by_first: dict[str, set[int]] = {}
        for name in gazetteer:
            if name:
                by_first.setdefault(name[0], set()).add(len(name))
        _lengths_of = gazetteer, {c: sorted(sizes, reverse=True) for c, sizes in by_first.items()}
    return _lengths_of[1]


def _is_person(tok: Token, surnames: frozenset[str] | None) -> bool:
    word = tok.token
    if tok.pos not in _PERSON_TAGS or word in _NOT_PEOPLE:
        return False
    short, long = _PERSON_LENGTHS
    if short <= len(word) <= long and (
        surnames is None or word[0] in surnames or word[:2] in surnames
    ):
        return True
    low, high = _FOREIGN_LENGTHS
    return low <= len(word) <= high and all(ch in _TRANSLITERATION for ch in word)


def _abbreviations(tok: Token) -> Iterator[NameMention]:
    """`中美关系` -> LOC 中, LOC 美; `中方`, `访华` -> LOC 中, LOC 华."""
    word = tok.token
    run = 0
    while run < len(word) and word[run] in ABBREVIATIONS:
        run += 1
    if run >= 2 and word[run:] in _ABBREVIATION_TAILS:
        for k in range(run):
            yield NameMention("LOC", tok.start + k, tok.start + k + 1, ABBREVIATIONS[word[k]])
    elif len(word) == 1 and word in ABBREVIATIONS and word not in _NOT_ALONE:
        if tok.pos in ("ns", "j"):
            yield NameMention("LOC", tok.start, tok.end, ABBREVIATIONS[word])
    elif len(word) >= 2 and word[0] in ABBREVIATIONS and word[1] in _ABBREVIATION_SIDES:
        yield NameMention("LOC", tok.start, tok.start + 1, ABBREVIATIONS[word[0]])
    elif len(word) >= 2 and word[1] in ABBREVIATIONS and word[0] in _ABBREVIATION_VERBS:
        yield NameMention("LOC", tok.start + 1, tok.start + 2, ABBREVIATIONS[word[1]])


def _ending(word: str, endings: frozenset[str]) -> str | None:
    """The longest of `endings` that `word` ends with, leaving something before it."""
    for size in range(min(3, len(word) - 1), 0, -1):
        if word[-size:] in endings:
            return word[-size:]
    return None


def _inner_name(
    tok: Token, gazetteer: Mapping[str, str], surnames: frozenset[str] | None
) -> NameMention | None:
    """A name opening a longer token: `邓小平理论`, `江主席`, `中华民族`, `亚太地区`."""
    word = tok.token
    if len(word) < 2:
        return None
    head_word = _ending(word, _PLACE_HEADS)
    if head_word is not None:
        head = word[: -len(head_word)]
        if gazetteer.get(head) == "LOC":
            return NameMention("LOC", tok.start, tok.start + len(head), head)
    suffix = _ending(word, _AFTER_NAME_SET)
    if suffix is not None and surnames is not None:
        head = word[: -len(suffix)]
        if 1 <= len(head) <= 3 and head[0] in surnames and head not in _NOT_PEOPLE:
            return NameMention("PERSON", tok.start, tok.start + len(head), head)
    return None


def _split_places(tok: Token, gazetteer: Mapping[str, str]) -> list[NameMention] | None:
    """A token made of two listed places: `中华人民共和国香港特别行政区`."""
    word = tok.token
    for cut in range(2, len(word) - 1):
        if gazetteer.get(word[:cut]) == "LOC" and gazetteer.get(word[cut:]) == "LOC":
            return [
                NameMention("LOC", tok.start, tok.start + cut, word[:cut]),
                NameMention("LOC", tok.start + cut, tok.end, word[cut:]),
            ]
    return None


def _is_ordinal(tok: Token) -> bool:
    return tok.pos == "m" and all(ch in _ORDINAL_CHARS or ch.isdigit() for ch in tok.token)


def _extend_org(tokens: Sequence[Token], first: int, last: int) -> tuple[int, int]:
    """Grow an ORG or LOC at tokens[first..last] into an organisation's full name.

    Backwards over an ordinal (`第九届` 全国人民代表大会); forwards over up to five name
    tokens that end on an organisation word (交通银行 `辽宁省分行`, 商务部 `消费促进司`).
    """
    while first > 0 and _is_ordinal(tokens[first - 1]) and _same_sentence(tokens, first - 1, last):
        first -= 1
    end = last
    for j in range(last + 1, min(len(tokens), last + 1 + _MAX_ORG_TOKENS)):
        tok = tokens[j]
        if not _same_sentence(tokens, first, j) or tokens[j - 1].end != tok.start:
            break
        if tok.token in ORG_SUFFIXES or tok.pos == "nt":
            end = j
            continue
        # A verb only right before the suffix: 消费`促进`司, never 央行`发布`数据.
        verb_before_suffix = (
            tok.pos == "v" and j + 1 < len(tokens) and tokens[j + 1].token in ORG_SUFFIXES
        )
        if tok.pos not in _INSIDE_ORG and not _is_ordinal(tok) and not verb_before_suffix:
            break
    return first, end


def _same_sentence(tokens: Sequence[Token], a: int, b: int) -> bool:
    return tokens[a].sentence_idx == tokens[b].sentence_idx


def is_place_token(word: str, places: frozenset[str]) -> bool:
    """jieba tags many common words ns (城市, 上市, 入口): a place is a known name, or a
    name of three or more characters with a place suffix (`辽宁省`, `浦东新区`)."""
    return word in places or (len(word) >= _MIN_SUFFIXED_PLACE and word.endswith(_PLACE_SUFFIXES))


def name_mentions(
    text: str,
    tokens: Sequence[Token],
    *,
    gazetteer: Mapping[str, str],
    places: frozenset[str],
    surnames: frozenset[str] | None,
) -> list[NameMention]:
    """PERSON, LOC and ORG mentions of one text, possibly overlapping (the caller picks)."""
    mentions: list[NameMention] = []
    listed = _gazetteer_mentions(tokens, gazetteer, text)
    # Each test below first asks the cheap question its function would fail on (length,
    # first or last character): most tokens are short common words that name nothing.
    for i, tok in enumerate(tokens):
        word = tok.token
        size = len(word)
        if i in listed:
            n, entity_type = listed[i]
            first, last = i, i + n - 1
        elif size >= 4 and (places_in := _split_places(tok, gazetteer)) is not None:
            mentions.extend(places_in)
            continue
        elif 2 <= size <= 3 and word[-1] == "大" and _CONGRESS.match(word):
            first, last, entity_type = i, i, "ORG"
        elif (word[:1] in ABBREVIATIONS or word[1:2] in ABBREVIATIONS) and (
            abbreviated := list(_abbreviations(tok))
        ):
            mentions.extend(abbreviated)
            continue
        elif (
            size >= 2
            and word[-1] in _INNER_NAME_LAST
            and (inner := _inner_name(tok, gazetteer, surnames)) is not None
        ):
            mentions.append(inner)
            continue
        elif tok.pos in _NAME_TAGS and tok.token in places:
            first, last, entity_type = i, i, "LOC"
        elif tok.pos == "nt" and len(tok.token) >= 2:
            first, last, entity_type = i, i, "ORG"
        elif tok.pos == "ns" and is_place_token(tok.token, places):
            first, last, entity_type = i, i, "LOC"
        else:
            if tok.pos in _PERSON_TAGS and _is_person(tok, surnames):
                mentions.append(NameMention("PERSON", tok.start, tok.end, tok.token))
            continue
        start, end = tokens[first].start, tokens[last].end
        mentions.append(NameMention(entity_type, start, end, text[start:end]))
        grown_first, grown_last = _extend_org(tokens, first, last)
        if (grown_first, grown_last) != (first, last) and (
            entity_type == "ORG"
            or tokens[grown_last].token in ORG_SUFFIXES
            or tokens[grown_last].pos == "nt"
        ):
            start, end = tokens[grown_first].start, tokens[grown_last].end
            mentions.append(NameMention("ORG", start, end, text[start:end]))
    return mentions
