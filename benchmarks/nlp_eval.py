"""Segmentation and entity scores of the pipeline on gold corpora, beside plain jieba.

    uv run python -m benchmarks.nlp_eval [--limit N] [--parts seg,ner,bdci] \\
        [--json benchmarks/results/nlp.json]

Three parts, each system measured in the same run with its speed:

- `seg`: word segmentation F1, OOV and IV recall on the SIGHAN 2005 PKU and MSR test
  gold, scored like the bakeoff's `score` script. `zhnews+vocab` adds the bakeoff's
  training word list to the tokenizer (the closed-track condition), so it is not the
  pipeline as shipped.
- `ner`: PERSON/LOC/ORG mention F1 (exact span and type) on MSRA (SIGHAN 2006) and
  People's Daily 1998, per corpus and micro-averaged over both.
- `bdci`: recall of the CCF BDCI 2019 entity lists (mentions, not spans): strict when an
  ORG mention equals the listed name, lenient when any PERSON/LOC/ORG mention contains it
  or lies inside it.

The corpora are read at run time from `benchmarks.synthetic_pages.corpus_root()`; a part
whose folder is absent is skipped. The JSON holds numbers only, never corpus text.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import sys
import time
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from benchmarks.page_eval import write_json
from benchmarks.synthetic_pages import corpus_root
from transforms.entities import extract_entities
from transforms.normalize import normalize_line
from transforms.sentences import split_sentences
from transforms.tagging import Tagger, tag_span, tokenize

if TYPE_CHECKING:
    from transforms.tables import NlpModels

PARTS = ("seg", "ner", "bdci")
NER_TYPES = ("PERSON", "LOC", "ORG")
SEG_TARGET = 0.85
NER_TARGET = 0.75

SIGHAN_DIR = "sighan2005_icwb2"
# corpus -> (raw test text, gold segmentation, training word list)
SIGHAN_FILES = {
    "pku": (
        "pku_test.lines1-1500.utf8",
        "pku_test_gold.lines1-1500.utf8",
        "pku_training_words.utf8",
    ),
    "msr": (
        "msr_test.lines1-3000.utf8",
        "msr_test_gold.lines1-3000.utf8",
        "msr_training_words.utf8",
    ),
}
MSRA_DIR = "msra_ner_sighan2006"
MSRA_FILES = ("test1.lines1-3365.txt", "testright1.lines1-3365.txt")
PEOPLES_DAILY_DIR = "peoples_daily_ner"
PEOPLES_DAILY_FILE = "example.dev"
BDCI_DIR = "bdci2019_fin_entity"
BDCI_FILE = "Test_Data.dev.csv"

MSRA_TAGS = {"nr": "PERSON", "ns": "LOC", "nt": "ORG"}
PEOPLES_DAILY_TAGS = {"PER": "PERSON", "LOC": "LOC", "ORG": "ORG"}
# What plain jieba's POS tags say, the same map the pipeline starts from.
JIEBA_TAGS = {"nr": "PERSON", "nrfg": "PERSON", "nrt": "PERSON", "ns": "LOC", "nt": "ORG"}
# Only date patterns read it; PERSON/LOC/ORG do not depend on it.
NER_PUB_DATE = date(1998, 1, 1)
BDCI_PUB_DATE = date(2019, 1, 1)

SEG_SYSTEMS = ("jieba", "zhnews", "zhnews+vocab")
NER_SYSTEMS = ("jieba", "zhnews")
SYSTEM_LABELS = {
    "jieba": "jieba (plain, default dictionary)",
    "zhnews": "zhnews (pipeline)",
    "zhnews+vocab": "zhnews on the bakeoff's training vocabulary (closed track)",
}
# The MSR gold moves a line's opening quote to the end of the previous line, so the last
# line of a cut file may hold a character or two more than the raw text.
_MAX_UNALIGNED_TAIL = 8

EntitySpan = tuple[str, int, int]  # (type, start, end)
Segmenter = Callable[[str], list[str]]
EntityFinder = Callable[[str], list[EntitySpan]]
T = TypeVar("T")


# --- readers: one per corpus format --------------------------------------------------------


def read_lines(path: Path, limit: int | None = None) -> list[str]:
    """Lines without their CRLF or LF ending; nothing else touched (no NFKC, no strip)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines[:limit]]


def read_gold_words(path: Path, limit: int | None = None) -> list[list[str]]:
    """SIGHAN gold: words separated by whitespace (two spaces, and a trailing one)."""
    return [line.split() for line in read_lines(path, limit)]


def read_training_words(path: Path) -> frozenset[str]:
    """A bakeoff training word list, one word a line."""
    return frozenset(w for w in (line.strip() for line in read_lines(path)) if w)


@dataclass(frozen=True)
class NerExample:
    """A sentence and its gold mentions as (type, start, end) character spans."""

    text: str
    entities: tuple[EntitySpan, ...]


def read_msra(raw_path: Path, gold_path: Path, limit: int | None = None) -> list[NerExample]:
    """MSRA 2006: gold lines of `chunk/tag`; the chunks concatenate to the raw line."""
    raw_lines = read_lines(raw_path, limit)
    gold_lines = read_lines(gold_path, limit)
    if len(raw_lines) != len(gold_lines):
        raise ValueError(f"{raw_path.name}: {len(raw_lines)} lines, gold {len(gold_lines)}")
    examples = []
    for number, (raw, gold) in enumerate(zip(raw_lines, gold_lines, strict=True), 1):
        pieces: list[str] = []
        entities: list[EntitySpan] = []
        offset = 0
        for chunk in gold.split():
            words, _, tag = chunk.rpartition("/")
            if tag in MSRA_TAGS:
                entities.append((MSRA_TAGS[tag], offset, offset + len(words)))
            pieces.append(words)
            offset += len(words)
        if "".join(pieces) != raw:
            raise ValueError(f"{gold_path.name} line {number}: chunks do not spell the raw line")
        examples.append(NerExample(raw, tuple(entities)))
    return examples


def read_peoples_daily(path: Path, limit: int | None = None) -> list[NerExample]:
    """People's Daily NER: `char tag` lines in BIO, a blank line after each sentence.

    An I- tag that does not continue a mention of its type starts one, as conlleval reads it.
    """
    examples: list[NerExample] = []
    chars: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if chars:
            examples.append(NerExample("".join(chars), tuple(_bio_spans(tags))))
        chars.clear()
        tags.clear()

    for line in read_lines(path):
        if limit is not None and len(examples) >= limit:
            break
        if not line.strip():
            flush()
            continue
        char, _, tag = line.rpartition(" ")
        if len(char) != 1:
            raise ValueError(f"{path.name}: not a `char tag` line: {line!r}")
        chars.append(char)
        tags.append(tag)
    flush()
    return examples[:limit]


def _bio_spans(tags: Sequence[str]) -> Iterator[EntitySpan]:
    entity_type: str | None = None
    start = 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-")
        mapped = PEOPLES_DAILY_TAGS.get(kind)
        continues = prefix == "I" and mapped is not None and mapped == entity_type
        if entity_type is not None and not continues:
            yield (entity_type, start, i)
            entity_type = None
        if mapped is not None and prefix in ("B", "I") and not continues:
            entity_type, start = mapped, i


@dataclass(frozen=True)
class BdciRow:
    """The text a system reads and the entity names listed for it."""

    text: str
    entities: tuple[str, ...]


def bdci_text(title: str, text: str) -> str:
    """Title and text as one input; titles that repeat the text are dropped."""
    return f"{title}。{text}" if title and title != text else text


def read_bdci(path: Path, limit: int | None = None) -> list[BdciRow]:
    """BDCI 2019 test CSV (UTF-8 with BOM): id,title,text,entity with `;`-separated names."""
    rows: list[BdciRow] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for record in csv.DictReader(f):
            if limit is not None and len(rows) >= limit:
                break
            names = (name.strip() for name in (record["entity"] or "").split(";"))
            rows.append(
                BdciRow(
                    bdci_text(record["title"] or "", record["text"] or ""),
                    tuple(dict.fromkeys(name for name in names if name)),
                )
            )
    return rows


# --- scorers: pure functions over spans --------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Gold, predicted and correct items: precision, recall and F1 from one place."""

    gold: int = 0
    predicted: int = 0
    correct: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.gold + other.gold,
            self.predicted + other.predicted,
            self.correct + other.correct,
        )

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "gold": self.gold,
            "predicted": self.predicted,
            "correct": self.correct,
        }


def word_spans(lines: Sequence[Sequence[str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """Every word as (start, end, word) in the stream of the non-blank characters of all lines.

    Offsets run over the whole file rather than per line so that a gold line that took a
    character from its neighbour (MSR moves opening quotes up a line) still lines up.
    """
    stream: list[str] = []
    spans = []
    offset = 0
    for words in lines:
        for word in words:
            solid = "".join(word.split())
            if solid:
                spans.append((offset, offset + len(solid), solid))
                stream.append(solid)
                offset += len(solid)
    return "".join(stream), spans


def _common_prefix_length(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    return next(i for i in range(n) if a[i] != b[i])


@dataclass(frozen=True)
class SegmentationScore:
    """Word spans against the gold, with the gold words split by the training vocabulary."""

    words: Counts
    oov: Counts  # gold = OOV gold words, correct = those found; predicted unused
    iv: Counts
    unaligned_chars: int

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.words.as_dict(),
            "oov_recall": self.oov.recall,
            "iv_recall": self.iv.recall,
            "oov_rate": self.oov.gold / self.words.gold if self.words.gold else None,
            "oov_words": self.oov.gold,
            "unaligned_chars": self.unaligned_chars,
        }


def score_segmentation(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    vocabulary: Collection[str] = frozenset(),
) -> SegmentationScore:
    """Precision, recall, F1 over word spans; OOV/IV recall as in the SIGHAN score script.

    A gold word is OOV when it is not in `vocabulary`. Both sides must spell the same
    characters (blanks aside); only a short unaligned tail, left by a cut file, is ignored.
    """
    gold_stream, gold_spans = word_spans(gold)
    predicted_stream, predicted_spans = word_spans(predicted)
    aligned = _common_prefix_length(gold_stream, predicted_stream)
    unaligned = max(len(gold_stream), len(predicted_stream)) - aligned
    if unaligned > _MAX_UNALIGNED_TAIL:
        raise ValueError(f"gold and segmented text differ from character {aligned} on")
    predicted_set = {(s, e) for s, e, _ in predicted_spans if e <= aligned}
    words = oov = iv = Counts()
    for s, e, word in gold_spans:
        if e > aligned:
            continue
        hit = Counts(1, 0, int((s, e) in predicted_set))
        words += hit
        if word in vocabulary:
            iv += hit
        else:
            oov += hit
    words = Counts(words.gold, len(predicted_set), words.correct)
    return SegmentationScore(words, oov, iv, unaligned)


def score_entities(
    gold: Sequence[Collection[EntitySpan]],
    predicted: Sequence[Collection[EntitySpan]],
    types: Sequence[str] = NER_TYPES,
) -> dict[str, Counts]:
    """Exact-match counts per type and `overall` (micro); a wrong type or span is an error."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences, {len(predicted)} predicted")
    counts = {t: Counts() for t in types}
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        g = {span for span in gold_spans if span[0] in counts}
        p = {span for span in predicted_spans if span[0] in counts}
        for t in types:
            g_t = {span for span in g if span[0] == t}
            p_t = {span for span in p if span[0] == t}
            counts[t] += Counts(len(g_t), len(p_t), len(g_t & p_t))
    overall = Counts()
    for t in types:
        overall += counts[t]
    return {**counts, "overall": overall}


def entity_result(counts: dict[str, Counts]) -> dict[str, Any]:
    """The JSON form: overall numbers at the top, per type below."""
    return {
        **counts["overall"].as_dict(),
        "by_type": {t: c.as_dict() for t, c in counts.items() if t != "overall"},
    }


@dataclass(frozen=True)
class BdciScore:
    entities: int
    found_strict: int
    found_lenient: int
    org_mentions: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "strict_recall": self.found_strict / self.entities if self.entities else None,
            "lenient_recall": self.found_lenient / self.entities if self.entities else None,
            "entities": self.entities,
            "found_strict": self.found_strict,
            "found_lenient": self.found_lenient,
            "org_mentions": self.org_mentions,
        }


def score_bdci(
    rows: Sequence[BdciRow], mentions: Sequence[Collection[tuple[str, str]]]
) -> BdciScore:
    """Listed names found among the predicted (type, text) mentions of their row.

    Strict: an ORG mention with exactly the name. Lenient: a PERSON/LOC/ORG mention that
    contains the name or lies inside it.
    """
    if len(rows) != len(mentions):
        raise ValueError(f"{len(rows)} rows, {len(mentions)} predicted")
    entities = strict = lenient = orgs = 0
    for row, found in zip(rows, mentions, strict=True):
        org_texts = {text for t, text in found if t == "ORG"}
        texts = {text for t, text in found if t in NER_TYPES}
        orgs += sum(1 for t, _ in found if t == "ORG")
        for name in row.entities:
            entities += 1
            strict += name in org_texts
            lenient += any(name in text or text in name for text in texts)
    return BdciScore(entities, strict, lenient, orgs)


# --- systems: adapters that turn a text into words or mentions ----------------------------


def normalized(text: str) -> str:
    """The pipeline's one-to-one normalisation, or the text itself if a length changed."""
    norm = normalize_line(text)
    return norm if len(norm) == len(text) else text


@cache
def _plain_jieba() -> tuple[Any, Any]:
    """A fresh jieba tokenizer with its default dictionary and a POS tokenizer over it."""
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer, jieba.posseg.POSTokenizer(tokenizer)


def jieba_segmenter() -> Segmenter:
    """Plain jieba: `cut(line, HMM=True)`, no user dictionary, no normalisation."""
    tokenizer, _ = _plain_jieba()

    def words(line: str) -> list[str]:
        return list(tokenizer.cut(line, HMM=True))

    return words


def zhnews_segmenter(tagger: Tagger) -> Segmenter:
    """The pipeline's tokens: `tag_span` over the normalised line, words cut from the raw one."""

    def words(line: str) -> list[str]:
        text = normalized(line)
        return [line[s:e] for _, s, e in tag_span(text, 0, len(text), tagger=tagger)]

    return words


def vocabulary_tagger(vocabulary: Collection[str]) -> Tagger:
    """The pipeline's tokenizer on the bakeoff's standard: its training words as the
    dictionary, in place of jieba's (the bakeoff's closed track).

    A standard is its vocabulary: PKU writes 新 世纪, 江 泽民 and 一 年 where jieba's
    dictionary holds 新世纪, 江泽民 and 一年, so extra words alone cannot reach it. The
    words are normalised as the input will be (the list's `１２月` meets PKU's `12月`; the
    scorer still counts such gold words as OOV, which lifts this row's OOV recall).
    Normalisation, protected spans and HMM for unknown words are the pipeline's own.
    """
    import tempfile

    from flows.io.nlp import JiebaTagger, write_main_dictionary

    words = {normalized(w) for w in vocabulary}
    with tempfile.TemporaryDirectory() as folder:
        main_dict = write_main_dictionary(words, Path(folder) / "standard.txt")
        tagger = JiebaTagger(None, main_dict=main_dict)
        # The dictionary is read when first needed: read it while its file exists.
        tagger.prepare()
        return tagger


def jieba_entities() -> EntityFinder:
    """Plain jieba POS tags as mentions: nr/nrfg/nrt PERSON, ns LOC, nt ORG."""
    _, posseg = _plain_jieba()

    def find(text: str) -> list[EntitySpan]:
        out: list[EntitySpan] = []
        offset = 0
        for pair in posseg.cut(text, HMM=True):
            word, flag = str(pair.word), str(pair.flag)
            start = text.find(word, offset)
            if not word or start < 0:
                continue
            offset = start + len(word)
            if flag in JIEBA_TAGS:
                out.append((JIEBA_TAGS[flag], start, offset))
        return out

    return find


def zhnews_entities(
    text: str, models: NlpModels, *, pub_date: date = NER_PUB_DATE
) -> list[EntitySpan]:
    """The pipeline's PERSON/LOC/ORG mentions of `text`, as `transforms.tables` finds them.

    Each line of `text` is a paragraph. Offsets are into `text` (normalisation is 1:1).
    """
    if not text:
        return []
    norm = normalized(text)
    sentences = split_sentences(norm, list(range(norm.count("\n") + 1)))
    tokens = tokenize(norm, sentences, tagger=models.tagger)
    entities = extract_entities(
        norm, sentences, tokens, pub_date=pub_date, **_model_keywords(models)
    )
    return [(e.entity_type, e.start, e.end) for e in entities if e.entity_type in NER_TYPES]


def _model_keywords(models: NlpModels) -> dict[str, Any]:
    """Every keyword of `extract_entities` that the models hold under the same name.

    The flow passes `places=nlp.places`, `surnames=nlp.surnames` and so on; matching by
    name keeps this evaluation in step when the entity code gains a model.
    """
    parameters = inspect.signature(extract_entities).parameters
    return {
        name: getattr(models, name)
        for name, parameter in parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and hasattr(models, name)
    }


def timed(
    system: Callable[[str], T], texts: Sequence[str], fallback: Callable[[str], T]
) -> tuple[list[T], dict[str, Any]]:
    """Outputs of `system` on every text, and its speed (seconds, chars/s).

    A text the system raises on gets `fallback(text)` and is counted under `errors`, so a
    crash costs that text's score, shows in the report, and does not end a long run.
    """
    outputs: list[T] = []
    errors: list[str] = []
    started = time.perf_counter()
    for index, text in enumerate(texts):
        try:
            outputs.append(system(text))
        except Exception as error:
            if not errors:
                traceback.print_exc()
            errors.append(f"{type(error).__name__} on text {index}")
            outputs.append(fallback(text))
    seconds = time.perf_counter() - started
    chars = sum(map(len, texts))
    speed: dict[str, Any] = {
        "seconds": round(seconds, 3),
        "chars_per_s": chars / seconds if seconds else 0,
        "errors": len(errors),
    }
    if errors:
        speed["first_error"] = errors[0]
    return outputs, speed


def _whole_line(line: str) -> list[str]:
    return [line]


def _no_entities(text: str) -> list[EntitySpan]:
    return []


# --- parts -----------------------------------------------------------------------------------


def _models() -> NlpModels:
    """The pipeline's models, the tagger's dictionary read and compiled before any timing."""
    from flows.io.nlp import load_tagging_models

    return load_tagging_models()


def _missing(folder: Path, names: Sequence[str]) -> str | None:
    """Which files of a corpus folder are absent, named relative to the corpus root."""
    if not folder.is_dir():
        return f"{folder.name}/ not found"
    absent = [f"{folder.name}/{name}" for name in names if not (folder / name).is_file()]
    return f"not found: {', '.join(absent)}" if absent else None


def run_segmentation(root: Path, limit: int | None) -> dict[str, Any]:
    """Every segmentation system on PKU and MSR."""
    folder = root / SIGHAN_DIR
    out: dict[str, Any] = {}
    for corpus, (raw_name, gold_name, vocab_name) in SIGHAN_FILES.items():
        missing = _missing(folder, (raw_name, gold_name, vocab_name))
        if missing:
            out[corpus] = {"skipped": missing}
            continue
        lines = read_lines(folder / raw_name, limit)
        gold = read_gold_words(folder / gold_name, limit)
        vocabulary = read_training_words(folder / vocab_name)
        models = _models()  # first: it also quiets jieba's loading messages
        started = time.perf_counter()
        with_vocabulary = vocabulary_tagger(vocabulary)
        vocab_seconds = time.perf_counter() - started
        segmenters = {
            "jieba": jieba_segmenter(),
            "zhnews": zhnews_segmenter(models.tagger),
            "zhnews+vocab": zhnews_segmenter(with_vocabulary),
        }
        systems = {}
        for name, segmenter in segmenters.items():
            predicted, speed = timed(segmenter, lines, _whole_line)
            systems[name] = {**score_segmentation(gold, predicted, vocabulary).as_dict(), **speed}
        out[corpus] = {
            "lines": len(lines),
            "chars": sum(map(len, lines)),
            "training_words": len(vocabulary),
            "vocab_load_seconds": round(vocab_seconds, 2),
            "systems": systems,
        }
    return out


def _ner_finders() -> dict[str, EntityFinder]:
    models = _models()
    return {
        "jieba": jieba_entities(),
        "zhnews": lambda text: zhnews_entities(text, models),
    }


def run_ner(root: Path, limit: int | None) -> dict[str, Any]:
    """Both entity systems on MSRA and People's Daily, and micro counts over both."""
    corpora: dict[str, Callable[[], list[NerExample]]] = {}
    out: dict[str, Any] = {}
    msra = root / MSRA_DIR
    if missing := _missing(msra, MSRA_FILES):
        out["msra"] = {"skipped": missing}
    else:
        corpora["msra"] = lambda: read_msra(msra / MSRA_FILES[0], msra / MSRA_FILES[1], limit)
    daily = root / PEOPLES_DAILY_DIR
    if missing := _missing(daily, (PEOPLES_DAILY_FILE,)):
        out["peoples_daily"] = {"skipped": missing}
    else:
        corpora["peoples_daily"] = lambda: read_peoples_daily(daily / PEOPLES_DAILY_FILE, limit)
    if not corpora:
        return out
    finders = _ner_finders()
    totals: dict[str, dict[str, Counts]] = {name: {} for name in finders}
    speed_totals = {name: [0.0, 0] for name in finders}
    for corpus, read in corpora.items():
        examples = read()
        texts = [ex.text for ex in examples]
        systems = {}
        for name, finder in finders.items():
            predicted, speed = timed(finder, texts, _no_entities)
            counts = score_entities([ex.entities for ex in examples], predicted)
            for key, value in counts.items():
                totals[name][key] = totals[name].get(key, Counts()) + value
            speed_totals[name][0] += speed["seconds"]
            speed_totals[name][1] += sum(map(len, texts))
            systems[name] = {**entity_result(counts), **speed}
        out[corpus] = {
            "sentences": len(examples),
            "chars": sum(map(len, texts)),
            "systems": systems,
        }
    out["overall"] = {
        "corpora": list(corpora),
        "systems": {
            name: {
                **entity_result(counts),
                "seconds": round(speed_totals[name][0], 3),
                "chars_per_s": (
                    speed_totals[name][1] / speed_totals[name][0] if speed_totals[name][0] else 0
                ),
            }
            for name, counts in totals.items()
        },
    }
    return out


def run_bdci(root: Path, limit: int | None) -> dict[str, Any]:
    """Entity-list recall on the BDCI rows, for both entity systems."""
    folder = root / BDCI_DIR
    if missing := _missing(folder, (BDCI_FILE,)):
        return {"skipped": missing}
    rows = read_bdci(folder / BDCI_FILE, limit)
    texts = [row.text for row in rows]
    models = _models()
    finders: dict[str, EntityFinder] = {
        "jieba": jieba_entities(),
        "zhnews": lambda text: zhnews_entities(text, models, pub_date=BDCI_PUB_DATE),
    }
    systems = {}
    for name, finder in finders.items():
        predicted, speed = timed(finder, texts, _no_entities)
        mentions = [
            [(t, text[s:e]) for t, s, e in spans]
            for text, spans in zip(texts, predicted, strict=True)
        ]
        systems[name] = {**score_bdci(rows, mentions).as_dict(), **speed}
    return {"rows": len(rows), "chars": sum(map(len, texts)), "systems": systems}


RUNNERS: dict[str, Callable[[Path, int | None], dict[str, Any]]] = {
    "seg": run_segmentation,
    "ner": run_ner,
    "bdci": run_bdci,
}
PART_TITLES = {
    "seg": "Word segmentation (SIGHAN 2005)",
    "ner": "Entities PERSON/LOC/ORG (MSRA 2006, People's Daily 1998)",
    "bdci": "BDCI 2019 entity-list recall",
}


def evaluate(root: Path, parts: Sequence[str] = PARTS, limit: int | None = None) -> dict[str, Any]:
    """Run the parts asked for; each keeps its time so slow parts show."""
    result: dict[str, Any] = {}
    started = time.perf_counter()
    for part in parts:
        part_started = time.perf_counter()
        result[part] = RUNNERS[part](root, limit)
        result[part]["part_seconds"] = round(time.perf_counter() - part_started, 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


# --- report ----------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _speed(value: float) -> str:
    return f"{value:,.0f}"


_TEXT_COLUMNS = frozenset({"corpus", "system"})


def _table(intro: str, header: Sequence[str], rows: list[str], notes: list[str]) -> list[str]:
    """A Markdown table after its intro, then the skip notes; notes only when nothing ran."""
    if not rows:
        return notes
    align = "".join("---|" if name in _TEXT_COLUMNS else "---:|" for name in header)
    head = [f"| {' | '.join(header)} |", f"|{align}"]
    return [intro, "", *head, *rows, *(["", *notes] if notes else [])]


def segmentation_table(result: dict[str, Any]) -> list[str]:
    rows, notes = [], []
    for corpus in SIGHAN_FILES:
        part = result.get(corpus)
        if part is None:
            continue
        if "skipped" in part:
            notes.append(f"{corpus.upper()}: skipped, {part['skipped']}")
            continue
        rate = next(iter(part["systems"].values()))["oov_rate"]
        name = f"{corpus.upper()} ({part['lines']} lines, OOV rate {_fmt(rate)})"
        for system, row in part["systems"].items():
            rows.append(
                f"| {name} | {SYSTEM_LABELS[system]} | {_fmt(row['precision'])} | "
                f"{_fmt(row['recall'])} | {_fmt(row['f1'])} | {_fmt(row['oov_recall'])} | "
                f"{_fmt(row['iv_recall'])} | {_speed(row['chars_per_s'])} |"
            )
    intro = (
        f"Target: F1 ≥ {SEG_TARGET} on PKU and MSR. OOV: a gold word not in the bakeoff's "
        "training word list."
    )
    header = ("corpus", "system", "P", "R", "F1", "OOV-R", "IV-R", "chars/s")
    return _table(intro, header, rows, notes)


def entity_table(result: dict[str, Any]) -> list[str]:
    rows, notes = [], []
    for corpus, label in (
        ("msra", "MSRA"),
        ("peoples_daily", "People's Daily"),
        ("overall", "overall (micro)"),
    ):
        part = result.get(corpus)
        if part is None:
            continue
        if "skipped" in part:
            notes.append(f"{label}: skipped, {part['skipped']}")
            continue
        if "sentences" in part:
            label = f"{label} ({part['sentences']} sentences)"
        for system, row in part["systems"].items():
            by_type = row["by_type"]
            rows.append(
                f"| {label} | {SYSTEM_LABELS[system]} | {_fmt(row['precision'])} | "
                f"{_fmt(row['recall'])} | {_fmt(row['f1'])} | "
                + " | ".join(_fmt(by_type[t]["f1"]) for t in NER_TYPES)
                + f" | {_speed(row['chars_per_s'])} |"
            )
    intro = (
        f"Target: entity F1 ≥ {NER_TARGET} overall (micro over both corpora). "
        "A mention counts when its span and type are exact."
    )
    header = ("corpus", "system", "P", "R", "F1", "PERSON F1", "LOC F1", "ORG F1", "chars/s")
    return _table(intro, header, rows, notes)


def bdci_table(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return [f"skipped: {result['skipped']}"]
    rows = [
        f"| {SYSTEM_LABELS[system]} | {row['entities']} | {_fmt(row['strict_recall'])} | "
        f"{_fmt(row['lenient_recall'])} | {row['org_mentions']} | {_speed(row['chars_per_s'])} |"
        for system, row in result["systems"].items()
    ]
    intro = (
        f"{result['rows']} rows. Strict: an ORG mention equals a listed name. Lenient: a "
        "PERSON/LOC/ORG mention contains the name or lies inside it."
    )
    header = ("system", "entities", "strict recall", "lenient recall", "ORG mentions", "chars/s")
    return _table(intro, header, rows, [])


TABLES = {"seg": segmentation_table, "ner": entity_table, "bdci": bdci_table}


def _error_notes(result: dict[str, Any], where: str = "") -> list[str]:
    """One line per system that raised on some texts (scored as if it found nothing)."""
    notes = []
    if result.get("errors"):
        notes.append(
            f"**{where}: failed on {result['errors']} texts** (first: {result['first_error']}); "
            "those texts are scored as unsegmented / without entities."
        )
    for key, value in result.items():
        if isinstance(value, dict) and key != "by_type":
            notes += _error_notes(value, f"{where} {key}".strip() if key != "systems" else where)
    return notes


def markdown_report(result: dict[str, Any]) -> str:
    out: list[str] = []
    for part in PARTS:
        if part not in result:
            continue
        out += [f"## {PART_TITLES[part]}", "", *TABLES[part](result[part])]
        out += ["", *_error_notes(result[part]), f"{result[part]['part_seconds']}s", ""]
    out.append(f"total {result['seconds']}s")
    return "\n".join(out)


def _parts(value: str) -> list[str]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are {','.join(PARTS)}; got {value!r}")
    return [p for p in PARTS if p in parts]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.nlp_eval",
        description="Segmentation and entity scores on gold corpora, beside plain jieba.",
    )
    parser.add_argument("--limit", type=int, help="first N lines/sentences/rows per corpus")
    parser.add_argument(
        "--parts", type=_parts, default=list(PARTS), help="comma-separated: seg,ner,bdci"
    )
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: ZHNEWS_CORPUS)")
    parser.add_argument(
        "--json", type=Path, help="also write the result there, and its tables as .md"
    )
    args = parser.parse_args(argv)

    root = args.corpus or corpus_root()
    result = evaluate(root, args.parts, args.limit)
    report = markdown_report(result)
    print(report)
    if args.json and not _measured(result):
        # Without the corpus nothing was scored: keep the recorded figures as they are.
        print(f"\nnothing measured; {args.json} left as it was")
    elif args.json:
        write_json(result, args.json, limit=args.limit, parts=args.parts, targets=_targets())
        args.json.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
        print(f"\nwrote {args.json} and {args.json.with_suffix('.md')}")
    return 0


def _measured(result: object) -> bool:
    """Some part scored a system (its results carry `systems`)."""
    if isinstance(result, dict):
        return "systems" in result or any(_measured(v) for v in result.values())
    return False


def _targets() -> dict[str, float]:
    return {"segmentation_f1": SEG_TARGET, "entity_f1_overall": NER_TARGET}


if __name__ == "__main__":
    sys.exit(main())
