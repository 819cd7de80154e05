"""Synthetic newspaper pages with known truth, built from real articles at run time.

A page imitates text extracted from a printed Chinese newspaper page (see
`data/raw/cbn/2026-06-15/`): one printed item per line, blank lines between them,
2-4 articles one after the other, each with a headline, a byline, body paragraphs that
the column layout breaks at random characters, section headings with decks, pull-quotes,
photo captions with credits, stat boxes, and sometimes a lead printed at the end of the
article's region. Everything the page shows comes from real articles in the shared corpus
(`<repo>/../shared/corpus`, or `$ZHNEWS_CORPUS`); only the layout, bylines, headings and
credits are made up, and the generator records for every line what it is.

The generator knows nothing of the rules in `transforms/`: it imitates pages, not them.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from transforms.pages import PARAGRAPH_KINDS

CORPUS_ENV = "ZHNEWS_CORPUS"
REPO = Path(__file__).resolve().parents[1]

# Every paragraph kind but `other`, which only page furniture outside articles gets.
KINDS = tuple(kind for kind in PARAGRAPH_KINDS if kind != "other")


def corpus_root() -> Path:
    """The shared corpus: `$ZHNEWS_CORPUS`, else `<repo>/../shared/corpus`."""
    override = os.environ.get(CORPUS_ENV)
    return Path(override) if override else REPO.parent / "shared" / "corpus"


def corpus_available(root: Path | None = None) -> bool:
    root = root or corpus_root()
    return (root / "stock_news_2018" / "manifest.tsv").is_file()


# --- corpus articles ---------------------------------------------------------------------


@dataclass(frozen=True)
class SourceArticle:
    """A real article: its title and its body paragraphs, whitespace normalised."""

    source_id: str
    title: str
    paragraphs: tuple[str, ...]


_MIN_ARTICLE_CHARS = 400
_MIN_PARAGRAPHS = 3
_MIN_PARAGRAPH_CHARS = 10
# Longer "paragraphs" are whole articles whose breaks the crawler lost.
_MAX_PARAGRAPH_CHARS = 600

_CJK_CHAR = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’《》"
_WS = re.compile(r"[\s\u00a0\u3000\u2002-\u200b\ufeff]+")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK_CHAR}]) | (?=[{_CJK_CHAR}])")
# The `　　` indent that opens a paragraph, often several per crawled line.
_INDENT = re.compile(r"[\u3000]{2,}|\u3000\s+\u3000")
# A prose paragraph ends a sentence; list intros ("如下：") lose the table they announce,
# and unterminated lines are in-text subheadings, chart sources or related-news links.
_PROSE_END = re.compile(r"(?:[。！？!?]|……|…)[”’」』）)\"']*$")
_WEB_TITLE_PREFIX = re.compile(r"^[（(]\d{1,2}[/／]\d{1,2}[)）]\s*")
_BOILERPLATE = re.compile(
    r"^(?:原标题|来源[:：]|责任编辑|作者[:：]|编辑[:：]|文[/／]|免责声明|新浪声明|风险提示[:：]"
    r"|注[:：]|[（(]本文|[（(]来源|【|特别声明|声明[:：])"
    r"|点击查看|https?://|www\.|@@|公众号|二维码|扫码|关注我们"
)
# Crawled pages end in disclaimers, related links and templates: stop reading there.
_FOOTER = re.compile(
    r"^(?:新浪声明|@@|【推荐阅读】|【相关阅读】|相关阅读|延伸阅读|相关新闻|相关报道|[（(]责任编辑"
    r"|责任编辑|进入【新浪财经股吧】)"
)
_DIGEST = "点击查看全文"
_CLAUSE_END = re.compile(r"[，,、；;]$")


def normalize_space(text: str) -> str:
    """One space for any whitespace run; none next to Chinese text or punctuation."""
    collapsed = _WS.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", collapsed)


def _cjk_share(text: str) -> float:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") / max(1, len(text))


def _stock_news_paragraphs(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[1:]
    paragraphs: list[str] = []
    skipping_summary = False
    pending = ""
    for raw in lines:
        stripped = raw.strip()
        if stripped == "摘要":
            # Eastmoney's summary block repeats the article; it runs to the next blank line.
            skipping_summary = True
            continue
        if skipping_summary:
            if stripped:
                continue
            skipping_summary = False
        if _FOOTER.match(stripped):
            break
        for piece in _INDENT.split(raw):
            paragraph = pending + normalize_space(piece)
            if not paragraph:
                continue
            if _CLAUSE_END.search(paragraph):
                # The crawl broke a paragraph at a comma ("…的一年，" | "价值派…"): rejoin.
                pending = paragraph
                continue
            pending = ""
            if (
                len(paragraph) < _MIN_PARAGRAPH_CHARS
                or not _PROSE_END.search(paragraph)
                or _BOILERPLATE.search(paragraph)
                or _cjk_share(paragraph) < 0.5
            ):
                continue
            paragraphs.append(paragraph)
    return _without_repeated_sentences(paragraphs)


def _without_repeated_sentences(paragraphs: list[str]) -> list[str]:
    """Each sentence once: a sentence pasted twice, or quoted again inside a longer one
    (`“…”` and later `王鹏表示：“…”`), is an artefact of the source.

    Left in, the truth would call both copies body where the rules, which keep each
    sentence of the body once, call the shorter or later one a repeat.
    """
    split = [split_sentences(p) for p in paragraphs]
    keys = [[_WS.sub("", s) for s in sentences] for sentences in split]
    everything = [k for ks in keys for k in ks]
    seen: set[str] = set()
    kept = []
    for paragraph_sentences, paragraph_keys in zip(split, keys, strict=True):
        sentences = []
        for sentence, key in zip(paragraph_sentences, paragraph_keys, strict=True):
            inside_longer = any(key in other and len(other) > len(key) for other in everything)
            if len(key) < 8 or not (key in seen or inside_longer):
                sentences.append(sentence)
            seen.add(key)
        text = "".join(sentences).strip()
        if text and _PROSE_END.search(text):
            kept.append(text)
    return kept


def _clean_title(line: str) -> str:
    """The title as one line: a space between two CJK runs is the 主题/副题 break, kept."""
    return _WS.sub(" ", _WEB_TITLE_PREFIX.sub("", line.strip())).strip()


def load_stock_news(root: Path) -> list[SourceArticle]:
    """Articles of `stock_news_2018`: no reader-comment pages, digests or short files."""
    folder = root / "stock_news_2018"
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    articles = []
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["original_filename"].endswith("_comment"):
            continue
        path = folder / "articles" / row["id"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(text.strip()) < _MIN_ARTICLE_CHARS or _DIGEST in text:
            continue
        title = _clean_title(text.split("\n", 1)[0])
        paragraphs = _stock_news_paragraphs(text)
        # Keep the article up to its first paragraph that is really a whole page.
        cut = next(
            (i for i, p in enumerate(paragraphs) if len(p) > _MAX_PARAGRAPH_CHARS),
            len(paragraphs),
        )
        paragraphs = paragraphs[:cut]
        if (
            not title
            or len(paragraphs) < _MIN_PARAGRAPHS
            or sum(map(len, paragraphs)) < _MIN_ARTICLE_CHARS
        ):
            continue
        articles.append(SourceArticle(row["id"], title, tuple(paragraphs)))
    return articles


def load_articles(root: Path | None = None) -> list[SourceArticle]:
    """Every usable corpus article, in a fixed order, bodies deduplicated.

    Only `stock_news_2018` is used. `thucnews_cnews_finance` glues the title to the body
    and has lost its paragraph breaks (and glues in-text subheadings to the next
    sentence), so neither its titles nor its paragraphs can be recovered reliably.
    """
    root = root or corpus_root()
    seen: set[tuple[str, ...]] = set()
    articles = []
    for article in load_stock_news(root):
        if article.paragraphs in seen:
            continue
        seen.add(article.paragraphs)
        articles.append(article)
    return articles


# --- text pieces -------------------------------------------------------------------------

_TERMINALS = "。！？!?…"
_CLOSERS = "”’」』）)\"'"
_CLAUSE_SPLIT = re.compile(r"(?<=[，,；;])")


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph; joined back together they give the paragraph exactly."""
    sentences: list[str] = []
    start = 0
    i = 0
    while i < len(paragraph):
        if paragraph[i] in _TERMINALS:
            while i + 1 < len(paragraph) and paragraph[i + 1] in _TERMINALS:
                i += 1
            while i + 1 < len(paragraph) and paragraph[i + 1] in _CLOSERS:
                i += 1
            sentences.append(paragraph[start : i + 1])
            start = i + 1
        i += 1
    if start < len(paragraph):
        sentences.append(paragraph[start:])
    return sentences


def _balanced(text: str) -> bool:
    pairs = (("“", "”"), ("（", "）"), ("(", ")"), ("《", "》"), ("「", "」"), ("‘", "’"))
    return all(text.count(a) == text.count(b) for a, b in pairs)


def _clauses(sentence: str) -> tuple[list[str], str]:
    """Comma/semicolon clauses of a sentence (without their trailing mark) and its ending."""
    match = re.search(f"[{re.escape(_TERMINALS)}]+[{re.escape(_CLOSERS)}]*$", sentence)
    ending = match.group() if match else ""
    core = sentence[: len(sentence) - len(ending)]
    clauses = [c.rstrip("，,；;") for c in _CLAUSE_SPLIT.split(core)]
    return [c for c in clauses if c], ending


# --- bylines, headings, credits ----------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞刚桂华建国志红玉梅海鹏飞雪琳晨宇浩然思雨欣怡佳琪"
    "涵轩博文婷东立新卫振春燕丹阳亮宁慧颖倩蕾璐瑶晶鑫森林峰岩彬斌辉凯健昊翔帆旭锐晓蓉莉薇"
    "虹婧嘉悦琦萌楠秋冬冰清一川子安乐康永德诚瑞祥云天启航铭哲睿泽宏毅"
)
CITIES = (
    "北京",
    "上海",
    "深圳",
    "广州",
    "杭州",
    "南京",
    "成都",
    "武汉",
    "重庆",
    "天津",
    "西安",
    "郑州",
    "长沙",
    "济南",
    "青岛",
    "厦门",
    "苏州",
    "合肥",
    "福州",
    "沈阳",
    "大连",
    "昆明",
    "南宁",
    "贵阳",
    "太原",
    "石家庄",
    "哈尔滨",
    "长春",
    "南昌",
    "兰州",
    "宁波",
    "无锡",
    "海口",
    "乌鲁木齐",
    "呼和浩特",
)
# Section headings as financial pages print them: short, no punctuation.
HEADINGS = (
    "市场表现",
    "政策加码",
    "业内观点",
    "风险仍存",
    "资金动向",
    "机构观点",
    "后市展望",
    "估值修复",
    "业绩分化",
    "监管趋严",
    "行业洗牌",
    "板块轮动",
    "外资持续流入",
    "融资难题待解",
    "转型压力加大",
    "盈利能力承压",
    "需求端回暖",
    "成本压力上升",
    "多方角力",
    "破局之道",
    "仍需观察",
    "谨慎乐观",
    "数据背后",
    "龙头效应显现",
    "结构性机会",
    "回调压力犹存",
    "流动性改善",
    "信心逐步修复",
    "短期波动难免",
    "长期向好",
    "散户加速离场",
    "杠杆风险不容忽视",
    "退市常态化",
    "分红意愿提升",
    "并购重组升温",
    "区域差异明显",
    "出海步伐加快",
    "政策红利释放",
    "中小企业承压",
    "银行加大投放",
    "IPO节奏放缓",
    "业绩预告密集披露",
)
_PHOTO_AGENCIES = ("视觉中国/图", "东方IC/图", "图片来源：新华社", "CFP/图", "受访者供图")
_BYLINE_OUTLETS = ("中经", "本报", "证券时报", "中国证券报", "每经")
_WIRES = ("新华社", "新华社", "中新社")


def random_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
    given_len = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(given_len))


def random_names(rng: random.Random, most: int = 3) -> list[str]:
    count = rng.choices(range(1, most + 1), weights=[0.65, 0.28, 0.07][:most])[0]
    names: list[str] = []
    while len(names) < count:
        name = random_name(rng)
        if name not in names:
            names.append(name)
    return names


@dataclass(frozen=True)
class Byline:
    text: str
    authors: tuple[str, ...]
    dateline: str | None
    form: str


def random_byline(rng: random.Random) -> Byline:
    """A byline in one of the forms Chinese papers print, with made-up names and cities."""
    names = random_names(rng)
    city = rng.choice(CITIES)
    joined = " ".join(names)
    form = rng.choices(
        ("reported", "staff", "sent_from", "wire", "reporter", "boxed"),
        weights=(0.27, 0.2, 0.16, 0.15, 0.17, 0.05),
    )[0]
    if form == "reported":
        outlet = rng.choice(_BYLINE_OUTLETS)
        return Byline(f"{outlet}记者 {joined} {city}报道", tuple(names), city, form)
    if form == "staff":
        outlet = rng.choice(("本报", "本报", "证券时报", "上海证券报"))
        return Byline(f"{outlet}记者 {joined}", tuple(names), None, form)
    if form == "sent_from":
        outlet = rng.choice(("每经", "每经", "本报"))
        return Byline(f"{outlet}记者 {joined} 发自{city}", tuple(names), city, form)
    if form == "wire":
        wire = rng.choice(_WIRES)
        day = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
        return Byline(f"{wire}{city}{day}电（记者 {joined}）", tuple(names), city, form)
    if form == "reporter":
        return Byline(f"记者 {joined}", tuple(names), None, form)
    # 上海证券报's boxed form, as THUCNews shows it ("⊙本报记者 徐婧婧").
    mark = rng.choice(("⊙", "□"))
    return Byline(f"{mark}本报记者 {joined}", tuple(names), None, form)


def random_credit(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"本报记者 {random_name(rng)}/摄"
    return rng.choice(_PHOTO_AGENCIES)


def headline_for(title: str, rng: random.Random) -> str:
    """The corpus title; sometimes printed as 主题 副题 where it has a natural split."""
    if " " in title or rng.random() >= 0.35:
        return title
    match = re.search(r"[：:，,]", title)
    if match is None:
        return title
    head, tail = title[: match.start()], title[match.end() :]
    if len(head) < 4 or len(tail) < 4 or not _balanced(head) or not _balanced(tail):
        return title
    return f"{head} {tail}"


# --- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineTruth:
    """What one non-empty line of the page is."""

    line_no: int
    text: str
    article: int
    kind: str
    # Body lines: the true paragraph (reading order within the article) and which
    # fragment of it the line is (0-based, in reading order).
    paragraph: int | None = None
    fragment: int | None = None
    # Printed item within the article: the lines of a two-line pull-quote share it.
    item: int = 0


@dataclass(frozen=True)
class ArticleTruth:
    headline: str
    authors: tuple[str, ...]
    dateline: str | None
    # Body paragraphs in reading order, as printed (before the pipeline's normalisation).
    body: tuple[str, ...]
    source_id: str
    byline_form: str
    late_lead: bool


@dataclass(frozen=True)
class SyntheticPage:
    text: str
    lines: tuple[LineTruth, ...]
    articles: tuple[ArticleTruth, ...]

    def article_lines(self, article: int) -> list[LineTruth]:
        return [line for line in self.lines if line.article == article]

    def body_fragments(self, article: int) -> list[list[LineTruth]]:
        """Each true body paragraph's lines, fragments in reading order."""
        body = [ln for ln in self.article_lines(article) if ln.kind == "body"]
        count = len(self.articles[article].body)
        return [
            sorted((ln for ln in body if ln.paragraph == p), key=lambda ln: ln.fragment or 0)
            for p in range(count)
        ]


@dataclass
class _Printed:
    text: str
    kind: str
    paragraph: int | None = None
    fragment: int | None = None
    item: int = 0


@dataclass
class _Gap:
    """A place between printed lines where boxes, quotes and photos may sit."""

    inside_paragraph: bool
    items: list[list[_Printed]] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    """How a page is set: characters per column line, and per line of a pull-quote box."""

    column: int
    quote_box: int
    indent: int = 2


# Chinese typesetting (避头尾) never starts a line with these, nor ends one with the openers.
_NO_LINE_START = set("，。、；：！？…,.;:!?）)》〉】」』”’%％")
_NO_LINE_END = set("（(《〈【「『“‘")


def _char_width(ch: str) -> float:
    return 0.5 if ord(ch) < 0x2E80 and ch not in "“”‘’…—·" else 1.0


def _line_ends(text: str, width: int, indent: int) -> list[int]:
    """Offsets where the printed lines of `text` end, in a column `width` characters wide."""
    ends: list[int] = []
    filled, limit = 0.0, float(width - indent)
    for i, ch in enumerate(text):
        if filled + _char_width(ch) > limit:
            cut = i
            # Kinsoku: a closer hangs on the line above, an opener moves to the line below.
            while cut < len(text) and text[cut] in _NO_LINE_START:
                cut += 1
            while cut > 1 and text[cut - 1] in _NO_LINE_END:
                cut -= 1
            if 0 < cut < len(text) and (not ends or cut > ends[-1]):
                ends.append(cut)
            limit += width
        filled += _char_width(ch)
    return ends


def break_text(text: str, width: int, indent: int, pieces: int, rng: random.Random) -> list[str]:
    """`text` cut into `pieces` at the ends of printed lines chosen at random.

    A paragraph continues in the next column (or after a box) at a line end: the first
    fragment is some whole lines of the column, the last can be a single character.
    Never at a space, which the extraction would drop.
    """
    ends = [
        e
        for e in _line_ends(text, width, indent)
        if not text[e - 1].isspace() and not text[e].isspace()
    ]
    if len(ends) < pieces - 1:
        return [text]
    bounds = [0, *sorted(rng.sample(ends, pieces - 1)), len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


def _fragments(text: str, layout: Layout, rng: random.Random) -> list[str]:
    if rng.random() >= 0.3:
        return [text]
    pieces = 3 if rng.random() < 0.15 else 2
    return break_text(text, layout.column, layout.indent, pieces, rng)


def _ascii_punctuation(text: str) -> str:
    """Some PDF extractions print `,` and `()` inside Chinese text (as the sample page)."""
    return text.replace("，", ",").replace("（", "(").replace("）", ")")


class _ArticleBuilder:
    def __init__(
        self,
        source: SourceArticle,
        rng: random.Random,
        *,
        ascii_punct: bool,
        sidebar_text: str | None,
        layout: Layout,
    ) -> None:
        self.rng = rng
        self.layout = layout
        self.source = source
        self.style = _ascii_punctuation if ascii_punct else (lambda t: t)
        self.paragraphs = [self.style(p) for p in self._select_paragraphs(source.paragraphs)]
        self.sentences = [split_sentences(p) for p in self.paragraphs]
        self.sidebar_text = sidebar_text
        self.next_item = 0

    def _select_paragraphs(self, paragraphs: Sequence[str]) -> list[str]:
        """The article's opening paragraphs, as many as a page region holds."""
        budget = self.rng.randint(700, 2800)
        chosen: list[str] = []
        for paragraph in paragraphs:
            if len(chosen) >= _MIN_PARAGRAPHS and sum(map(len, chosen)) >= budget:
                break
            chosen.append(paragraph)
        return chosen

    def _item(self) -> int:
        self.next_item += 1
        return self.next_item

    # Repeated text: a sentence of the body, whole or shortened, or two clauses merged.

    def _sentence_pool(self, paragraphs: Sequence[int]) -> list[str]:
        pool = []
        for p in paragraphs:
            sentences = self.sentences[p]
            for sentence in sentences:
                if 12 <= len(sentence) <= 90 and _balanced(sentence) and len(sentences) > 1:
                    pool.append(sentence)
        return pool

    def _shortened(self, sentence: str, *, middle_only: bool) -> str | None:
        clauses, ending = _clauses(sentence)
        if len(clauses) < 3:
            return None
        if middle_only:
            drop = {self.rng.randrange(1, len(clauses) - 1)}
        else:
            droppable = list(range(1, len(clauses)))
            count = self.rng.randint(1, len(clauses) - 2)
            drop = set(self.rng.sample(droppable, count))
        kept = [c for i, c in enumerate(clauses) if i not in drop]
        comma = "," if "," in sentence and "，" not in sentence else "，"
        text = comma.join(kept) + (ending or "。")
        return text if len(text) >= 12 and _balanced(text) else None

    def _merged(self) -> str | None:
        candidates: list[tuple[str, str]] = []
        for sentences in self.sentences:
            for sentence in sentences:
                clauses, _ = _clauses(sentence)
                candidates.extend(
                    (sentence, c) for c in clauses if 6 <= len(c) <= 40 and _balanced(c)
                )
        if len(candidates) < 2:
            return None
        for _ in range(10):
            (s1, c1), (s2, c2) = self.rng.sample(candidates, 2)
            if s1 != s2:
                comma = "," if self.style is _ascii_punctuation else "，"
                return f"{c1}{comma}{c2}。"
        return None

    def _repeat(self, paragraphs: Sequence[int], *, allow_merge: bool) -> str | None:
        pool = self._sentence_pool(paragraphs)
        roll = self.rng.random()
        if allow_merge and roll < 0.2:
            return self._merged()
        if not pool:
            return None
        sentence = self.rng.choice(pool)
        if roll < 0.6:
            return sentence
        return self._shortened(sentence, middle_only=False) or sentence

    def _deck(self, section: Sequence[int]) -> str | None:
        pool = self._sentence_pool(section)
        if not pool:
            return None
        sentence = self.rng.choice(pool)
        if self.rng.random() < 0.5:
            return sentence
        return self._shortened(sentence, middle_only=True) or sentence

    def _pullquote_lines(self) -> list[_Printed]:
        text = self._repeat(range(len(self.paragraphs)), allow_merge=True)
        if text is None:
            return []
        item = self._item()
        # Set in larger type in a narrow box, the extraction may give one line per
        # printed line (the sample page's 29 + 31).
        pieces = 1
        if self.rng.random() < 0.25:
            pieces = 2
        lines = break_text(text, self.layout.quote_box, 0, pieces, self.rng)
        return [_Printed(line, "pullquote", item=item) for line in lines]

    def _photo_lines(self) -> list[_Printed]:
        text = self._repeat(range(len(self.paragraphs)), allow_merge=False)
        if text is None:
            return []
        return [
            _Printed(text, "caption", item=self._item()),
            _Printed(random_credit(self.rng), "credit", item=self._item()),
        ]

    def _paragraph_lines(self, p: int) -> list[_Printed]:
        item = self._item()
        pieces = _fragments(self.paragraphs[p], self.layout, self.rng)
        return [
            _Printed(piece, "body", paragraph=p, fragment=f, item=item)
            for f, piece in enumerate(pieces)
        ]

    def _section_starts(self, lead: int) -> list[int]:
        """Paragraphs that open a section: after the lead, two paragraphs or more apart."""
        n = len(self.paragraphs)
        if n < 4 or self.rng.random() >= 0.45:
            return []
        candidates = list(range(max(lead, 1), n - 1))
        wanted = self.rng.randint(1, 3)
        self.rng.shuffle(candidates)
        starts: list[int] = []
        for c in candidates:
            if len(starts) < wanted and all(abs(c - s) >= 2 for s in starts):
                starts.append(c)
        return sorted(starts)

    def _boxed_items(self) -> list[list[_Printed]]:
        """Pull-quotes, a photo with its credit, a stat box: what sits inside the column."""
        items = [
            self._pullquote_lines() for _ in range(self.rng.choices((0, 1, 2), (35, 45, 20))[0])
        ]
        if self.rng.random() < 0.35:
            items.append(self._photo_lines())
        if self.sidebar_text:
            items.append([_Printed(self.sidebar_text, "sidebar", item=self._item())])
        self.rng.shuffle(items)
        return [lines for lines in items if lines]

    def build(self, headline: str, byline: Byline) -> tuple[list[_Printed], bool]:
        """The article's lines in page order, and whether its lead is printed last."""
        rng = self.rng
        n = len(self.paragraphs)
        late = n >= 4 and rng.random() < 0.25
        lead = rng.randint(1, min(3, n - 2)) if late else 0
        starts = self._section_starts(lead)
        headings = dict(zip(starts, rng.sample(HEADINGS, len(starts)), strict=True))

        # The main run of the article, with the gaps where boxed items may sit.
        tokens: list[_Printed | _Gap] = []
        for p in range(lead, n):
            if p in headings:
                tokens.append(_Printed(headings[p], "heading", item=self._item()))
                if rng.random() < 0.35:
                    section_end = next((s for s in starts if s > p), n)
                    deck = self._deck(range(p, section_end))
                    if deck:
                        tokens.append(_Printed(deck, "deck", item=self._item()))
            for f, line in enumerate(self._paragraph_lines(p)):
                if f:
                    tokens.append(_Gap(inside_paragraph=True))
                tokens.append(line)
            tokens.append(_Gap(inside_paragraph=False))

        gaps = [t for t in tokens if isinstance(t, _Gap)]
        for lines in self._boxed_items():
            breaks = [g for g in gaps if g.inside_paragraph and len(g.items) < 3]
            between = [g for g in gaps if not g.inside_paragraph]
            pool = breaks if breaks and rng.random() < 0.5 else between
            rng.choice(pool).items.append(lines)

        printed = [_Printed(headline, "headline", item=self._item())]
        byline_line = _Printed(byline.text, "byline", item=self._item())
        if not late:
            printed.append(byline_line)
        for token in tokens:
            if isinstance(token, _Gap):
                printed.extend(line for lines in token.items for line in lines)
            else:
                printed.append(token)
        if late:
            # The byline and the lead close the region (the sample page's second article).
            printed.append(byline_line)
            for p in range(lead):
                printed.extend(self._paragraph_lines(p))
        return printed, late


def _sidebar_text(donor: SourceArticle, rng: random.Random) -> str | None:
    """A short stat box: one or two sentences of an article printed nowhere else on the page."""
    options = []
    for paragraph in donor.paragraphs:
        sentences = split_sentences(paragraph)
        for i in range(len(sentences)):
            for width in (1, 2):
                text = "".join(sentences[i : i + width])
                if 20 <= len(text) <= 140 and _balanced(text) and _PROSE_END.search(text):
                    options.append(text)
    if not options:
        return None
    with_numbers = [o for o in options if re.search(r"\d", o)]
    return rng.choice(with_numbers or options)


def generate_page(articles: Sequence[SourceArticle], rng: random.Random) -> SyntheticPage:
    """One page of 2-4 articles drawn from `articles`, with the truth of every line."""
    count = rng.randint(2, 4)
    picked = rng.sample(range(len(articles)), count + 1)
    on_page, donor = picked[:count], articles[picked[count]]
    ascii_punct = rng.random() < 0.3
    layout = Layout(column=rng.randint(11, 16), quote_box=rng.randint(9, 14))

    printed: list[tuple[int, _Printed]] = []
    truths: list[ArticleTruth] = []
    sidebar_used = False
    for index, article_idx in enumerate(on_page):
        source = articles[article_idx]
        sidebar = None
        if not sidebar_used and rng.random() < 0.2:
            sidebar = _sidebar_text(donor, rng)
            sidebar = _ascii_punctuation(sidebar) if sidebar and ascii_punct else sidebar
            sidebar_used = sidebar is not None
        builder = _ArticleBuilder(
            source, rng, ascii_punct=ascii_punct, sidebar_text=sidebar, layout=layout
        )
        headline = headline_for(source.title, rng)
        byline = random_byline(rng)
        lines, late = builder.build(headline, byline)
        printed.extend((index, line) for line in lines)
        truths.append(
            ArticleTruth(
                headline=headline,
                authors=byline.authors,
                dateline=byline.dateline,
                body=tuple(builder.paragraphs),
                source_id=source.source_id,
                byline_form=byline.form,
                late_lead=late,
            )
        )

    out: list[str] = [""] * rng.randint(0, 2)
    line_truths: list[LineTruth] = []
    for index, line in printed:
        out.append(line.text)
        line_truths.append(
            LineTruth(
                line_no=len(out),
                text=line.text,
                article=index,
                kind=line.kind,
                paragraph=line.paragraph,
                fragment=line.fragment,
                item=line.item,
            )
        )
        out.extend([""] * (2 if rng.random() < 0.06 else 1))
    return SyntheticPage("\n".join(out), tuple(line_truths), tuple(truths))


def generate_pages(articles: Sequence[SourceArticle], count: int, seed: int) -> list[SyntheticPage]:
    """`count` pages from one seeded generator: the same seed gives the same pages."""
    rng = random.Random(seed)
    return [generate_page(articles, rng) for _ in range(count)]
