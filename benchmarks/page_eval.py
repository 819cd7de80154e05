"""Measure `transforms.pages.rebuild_page` on synthetic pages whose truth is known.

    uv run python -m benchmarks.page_eval --pages 200 --seed 1 \\
        [--json benchmarks/results/pages.json] [--show-failures]

Prints a Markdown table of the metrics. Line-level metrics (repeat, caption, sidebar,
heading) compare, for every non-empty line, the kind of the paragraph the rules put it in
with the kind the generator printed it as; pull-quotes, captions and decks are one class,
`repeat`. The JSON file holds the numbers and where the failures are (page, lines, kinds,
corpus file), never corpus text: that is printed with `--show-failures` only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.synthetic_pages import (
    SyntheticPage,
    corpus_available,
    corpus_root,
    generate_pages,
    load_articles,
)
from transforms.normalize import normalize_line
from transforms.pages import ArticleDraft, Lexicon, rebuild_page, split_lines

Rebuild = Callable[[str], Sequence[ArticleDraft]]

REPEAT_KINDS = frozenset({"pullquote", "caption", "deck"})
# Line classes scored with precision and recall: name -> kinds that count as the class.
LINE_CLASSES: dict[str, frozenset[str]] = {
    "repeat": REPEAT_KINDS,
    "caption": frozenset({"caption"}),
    "sidebar": frozenset({"sidebar"}),
    "heading": frozenset({"heading"}),
}
# A break right after sentence punctuation leaves no trace in the text.
_ENDS_SENTENCE = re.compile(r"[。！？!?…；;：:][”’」』）)\"']*$")
_SNIPPET = 36
# The punctuation a headline cannot hold under the rules' title test, checked here
# independently so the breakdown shows how common such headlines are.
_CLAUSE_PUNCT = re.compile(r"[，,；;：:。！？!?]")


def make_rebuild(lexicon: Lexicon | None) -> Rebuild:
    """The pipeline's page rebuild, as the flow calls it."""

    def rebuild(text: str) -> list[ArticleDraft]:
        return rebuild_page(split_lines(text), lexicon=lexicon)

    return rebuild


def _snip(text: str, *, tail: bool = False) -> str:
    if len(text) <= _SNIPPET:
        return text
    return "…" + text[-_SNIPPET:] if tail else text[:_SNIPPET] + "…"


def _first_difference(expected: str, got: str) -> int:
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        if a != b:
            return i
    return min(len(expected), len(got))


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


class _Failures:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.examples: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def add(self, metric: str, example: dict[str, Any]) -> None:
        if len(self.examples[metric]) < self.limit:
            self.examples[metric].append(example)


def _predicted(drafts: Sequence[ArticleDraft]) -> tuple[dict[int, tuple[int, int, str]], Counter]:
    """Line -> (article, paragraph, kind) of the rebuilt page, and how often each line landed."""
    where: dict[int, tuple[int, int, str]] = {}
    landed: Counter[int] = Counter()
    for a, draft in enumerate(drafts):
        for p, paragraph in enumerate(draft.paragraphs):
            for line in paragraph.raw_lines:
                landed[line] += 1
                where.setdefault(line, (a, p, paragraph.kind))
    return where, landed


def _line_label(page: SyntheticPage, line_no: int) -> str:
    truth = next(t for t in page.lines if t.line_no == line_no)
    label = f"{truth.kind} (article {truth.article}"
    if truth.kind == "body":
        label += f", paragraph {truth.paragraph}, part {truth.fragment}"
    return label + ")"


class _PageScore:
    """One page against its rebuild: adds to the shared counts and failure examples."""

    def __init__(
        self,
        index: int,
        page: SyntheticPage,
        drafts: Sequence[ArticleDraft],
        counts: Counter[str],
        failures: _Failures,
    ) -> None:
        self.index, self.page, self.drafts = index, page, drafts
        self.counts, self.failures = counts, failures
        self.where, self.landed = _predicted(drafts)
        self.text_of = {t.line_no: t.text for t in page.lines}
        self.rebuilt_sets = [{n for p in d.paragraphs for n in p.raw_lines} for d in drafts]
        self.true_joins = {
            (x.line_no, y.line_no)
            for a in range(len(page.articles))
            for fragments in page.body_fragments(a)
            for x, y in pairwise(fragments)
        }
        self.predicted_joins = {
            (x, y)
            for d in drafts
            for p in d.paragraphs
            if p.kind == "body"
            for x, y in pairwise(p.raw_lines)
        }

    def kind(self, line_no: int) -> str:
        return self.where.get(line_no, (0, 0, "lost"))[2]

    def score(self) -> None:
        self.counts["pages"] += 1
        self.counts["articles_true"] += len(self.page.articles)
        self.counts["articles_rebuilt"] += len(self.drafts)
        self.lines()
        for a in range(len(self.page.articles)):
            self.article(a)
        self.joins()
        self.kinds()

    def lines(self) -> None:
        """Every line lands in exactly one paragraph."""
        truth_lines = {t.line_no for t in self.page.lines}
        lost = sorted(truth_lines - set(self.landed))
        duplicated = sorted(n for n, c in self.landed.items() if c > 1)
        invented = sorted(set(self.landed) - truth_lines)
        self.counts["lines"] += len(truth_lines)
        self.counts["lost_lines"] += len(lost)
        self.counts["duplicated_lines"] += len(duplicated)
        self.counts["invented_lines"] += len(invented)
        if lost or duplicated or invented:
            self.failures.add(
                "lost_or_duplicated_lines",
                {"page": self.index, "lost": lost, "dup": duplicated, "invented": invented},
            )

    def _split_cause(self, a: int, true_set: set[int], headline_line: int) -> str:
        if self.kind(headline_line) != "headline":
            return "headline not recognised"
        inside = [
            t.line_no
            for t in self.page.lines
            if t.article == a and t.line_no != headline_line and self.kind(t.line_no) == "headline"
        ]
        if inside:
            return f"a {_line_label(self.page, inside[0]).split(' (')[0]} line taken as headline"
        return "absorbed lines of the next article"

    def article(self, a: int) -> None:
        page, counts = self.page, self.counts
        truth = page.articles[a]
        lines = page.article_lines(a)
        true_set = {t.line_no for t in lines}
        headline_line = next(t.line_no for t in lines if t.kind == "headline")
        overlaps = [len(true_set & s) for s in self.rebuilt_sets]
        best = max(range(len(self.drafts)), key=overlaps.__getitem__) if self.drafts else None
        draft = self.drafts[best] if best is not None else None
        expected_headline = normalize_line(truth.headline)
        tags = {
            "headline punctuation": (
                "clause punctuation" if _CLAUSE_PUNCT.search(expected_headline) else "none"
            ),
            "headline shape": "主题 副题" if " " in expected_headline else "one part",
            "lead": "late" if truth.late_lead else "first",
            "page headlines": (
                "some with clause punctuation"
                if any(_CLAUSE_PUNCT.search(normalize_line(t.headline)) for t in page.articles)
                else "none with clause punctuation"
            ),
            "byline form": truth.byline_form,
        }

        split_ok = sum(1 for s in self.rebuilt_sets if s == true_set) == 1
        counts["article_split_ok"] += split_ok
        for tag, value in tags.items():
            counts[f"split|{tag}: {value}"] += 1
            counts[f"split_ok|{tag}: {value}"] += split_ok
        if not split_ok:
            cause = self._split_cause(a, true_set, headline_line)
            counts[f"split_cause|{cause}"] += 1
            self.failures.add(
                "article_split",
                {
                    "page": self.index,
                    "article": a,
                    "source": truth.source_id,
                    "cause": cause,
                    "true_lines": f"{min(true_set)}-{max(true_set)}",
                    "rebuilt": [
                        f"{min(s)}-{max(s)} ({o} of its lines)"
                        for s, o in zip(self.rebuilt_sets, overlaps, strict=True)
                        if o
                    ],
                    "headline_line": headline_line,
                    "headline_got": self.kind(headline_line),
                    "byline_form": truth.byline_form,
                    "late_lead": truth.late_lead,
                    "headline_text": truth.headline,
                },
            )

        got_headline = draft.headline if draft else None
        counts["headline_ok"] += got_headline == expected_headline
        if got_headline != expected_headline:
            self.failures.add(
                "headline",
                {
                    "page": self.index,
                    "article": a,
                    "line": headline_line,
                    "got_kind": self.kind(headline_line),
                    "expected_text": expected_headline,
                    "got_text": got_headline,
                },
            )

        authors_ok = draft is not None and tuple(draft.authors) == truth.authors
        dateline_ok = draft is not None and draft.dateline == truth.dateline
        counts["authors_ok"] += authors_ok
        counts["dateline_ok"] += dateline_ok
        counts["byline_ok"] += authors_ok and dateline_ok
        counts[f"byline|{truth.byline_form}"] += 1
        counts[f"byline_ok|{truth.byline_form}"] += authors_ok and dateline_ok
        if not (authors_ok and dateline_ok):
            byline = next(t for t in lines if t.kind == "byline")
            self.failures.add(
                "byline",
                {
                    "page": self.index,
                    "article": a,
                    "line": byline.line_no,
                    "form": truth.byline_form,
                    "got_kind": self.kind(byline.line_no),
                    "split_ok": split_ok,
                    "expected": [truth.authors, truth.dateline],
                    "got": [draft.authors, draft.dateline] if draft else None,
                    "text": byline.text,
                },
            )

        expected_body = [
            "".join(normalize_line(line.text.strip()) for line in fragments)
            for fragments in page.body_fragments(a)
        ]
        got_body = draft.body.split("\n") if draft and draft.body else []
        body_ok = got_body == expected_body
        counts["exact_body_ok"] += body_ok
        counts["late_lead_articles"] += truth.late_lead
        counts["late_lead_exact_body_ok"] += truth.late_lead and body_ok
        counts["split_ok_exact_body_ok"] += split_ok and body_ok
        if not body_ok:
            cause = self._body_cause(a, split_ok, expected_body, got_body)
            counts[f"body_cause|{cause}"] += 1
            example: dict[str, Any] = {
                "page": self.index,
                "article": a,
                "source": truth.source_id,
                "cause": cause,
                "paragraphs": [len(expected_body), len(got_body)],
            }
            for i, (e, g) in enumerate(zip(expected_body, got_body, strict=False)):
                if e != g:
                    at = _first_difference(e, g)
                    example["first_different_paragraph"] = i
                    example["expected_text"] = e[max(0, at - 12) : at + _SNIPPET]
                    example["got_text"] = g[max(0, at - 12) : at + _SNIPPET]
                    break
            self.failures.add("exact_body", example)

    def _body_cause(self, a: int, split_ok: bool, expected: list[str], got: list[str]) -> str:
        """The first reason, in pipeline order, why an article's body is not the truth."""
        if not split_ok:
            return "article split"
        lines = {t.line_no for t in self.page.article_lines(a)}
        for t in self.page.article_lines(a):
            got_kind = self.kind(t.line_no)
            if (t.kind == "body") != (got_kind == "body"):
                return f"{t.kind} line read as {got_kind}"
        if any(x in lines for x, _ in self.true_joins - self.predicted_joins):
            return "missed join"
        if any(x in lines for x, _ in self.predicted_joins - self.true_joins):
            return "wrong join"
        if sorted(expected) == sorted(got):
            return "paragraph order"
        return "other"

    def joins(self) -> None:
        """A join is two lines read one after the other inside one body paragraph."""
        counts = self.counts
        for x, _ in self.true_joins:
            hidden = bool(_ENDS_SENTENCE.search(normalize_line(self.text_of[x])))
            counts["joins_hidden_true" if hidden else "joins_visible_true"] += 1
        counts["joins_true"] += len(self.true_joins)
        counts["joins_predicted"] += len(self.predicted_joins)
        counts["joins_tp"] += len(self.true_joins & self.predicted_joins)
        for x, y in sorted(self.true_joins - self.predicted_joins):
            hidden = bool(_ENDS_SENTENCE.search(normalize_line(self.text_of[x])))
            counts["joins_hidden_missed" if hidden else "joins_visible_missed"] += 1
            joined_to = next(
                (
                    list(p.raw_lines)
                    for d in self.drafts
                    for p in d.paragraphs
                    if x in p.raw_lines and len(p.raw_lines) > 1
                ),
                None,
            )
            self.failures.add(
                "join_recall",
                {
                    "page": self.index,
                    "lines": [x, y],
                    "head_ends_sentence": hidden,
                    "got": [self.kind(x), self.kind(y)],
                    "head_joined_to": joined_to,
                    "head_text": _snip(self.text_of[x], tail=True),
                    "tail_text": _snip(self.text_of[y]),
                },
            )
        for x, y in sorted(self.predicted_joins - self.true_joins):
            self.failures.add(
                "join_precision",
                {
                    "page": self.index,
                    "lines": [x, y],
                    "truth": [_line_label(self.page, x), _line_label(self.page, y)],
                    "head_text": _snip(self.text_of[x], tail=True),
                    "tail_text": _snip(self.text_of[y]),
                },
            )

    def kinds(self) -> None:
        """Line-level kinds: the kind of the paragraph each line landed in."""
        for truth in self.page.lines:
            got = self.kind(truth.line_no)
            self.counts[f"kind|{truth.kind}|{got}"] += 1
            for name, kinds in LINE_CLASSES.items():
                is_true, is_got = truth.kind in kinds, got in kinds
                self.counts[f"{name}_true"] += is_true
                self.counts[f"{name}_predicted"] += is_got
                self.counts[f"{name}_tp"] += is_true and is_got
                if is_true != is_got:
                    self.failures.add(
                        f"{name}_{'recall' if is_true else 'precision'}",
                        {
                            "page": self.index,
                            "line": truth.line_no,
                            "truth": _line_label(self.page, truth.line_no),
                            "got": got,
                            "text": _snip(truth.text),
                        },
                    )


def evaluate(
    pages: Sequence[SyntheticPage], rebuild: Rebuild, *, max_failures: int = 5
) -> dict[str, Any]:
    """Score `rebuild` on `pages`; every metric keeps its numerator and denominator."""
    counts: Counter[str] = Counter()
    failures = _Failures(max_failures)
    started = time.perf_counter()
    for index, page in enumerate(pages):
        _PageScore(index, page, list(rebuild(page.text)), counts, failures).score()
    return _summary(counts, failures, time.perf_counter() - started)


def _breakdown(counts: Counter[str], total: str, ok: str) -> dict[str, dict[str, Any]]:
    """`{tag: {"n": .., "accuracy": ..}}` from `total|tag` and `ok|tag` counts."""
    out = {}
    for key in sorted(k for k in counts if k.startswith(total + "|")):
        tag = key[len(total) + 1 :]
        out[tag] = {"n": counts[key], "accuracy": _ratio(counts[f"{ok}|{tag}"], counts[key])}
    return out


def _causes(counts: Counter[str], prefix: str) -> dict[str, int]:
    found = {k[len(prefix) + 1 :]: v for k, v in counts.items() if k.startswith(prefix + "|")}
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))


def _summary(counts: Counter[str], failures: _Failures, seconds: float) -> dict[str, Any]:
    c = counts
    metrics: dict[str, float | None] = {
        "article_split_accuracy": _ratio(c["article_split_ok"], c["articles_true"]),
        "headline_accuracy": _ratio(c["headline_ok"], c["articles_true"]),
        "byline_accuracy": _ratio(c["byline_ok"], c["articles_true"]),
        "authors_accuracy": _ratio(c["authors_ok"], c["articles_true"]),
        "dateline_accuracy": _ratio(c["dateline_ok"], c["articles_true"]),
        "join_precision": _ratio(c["joins_tp"], c["joins_predicted"]),
        "join_recall": _ratio(c["joins_tp"], c["joins_true"]),
        "join_recall_visible": _ratio(
            c["joins_visible_true"] - c["joins_visible_missed"], c["joins_visible_true"]
        ),
        "join_recall_hidden": _ratio(
            c["joins_hidden_true"] - c["joins_hidden_missed"], c["joins_hidden_true"]
        ),
    }
    for name in LINE_CLASSES:
        metrics[f"{name}_precision"] = _ratio(c[f"{name}_tp"], c[f"{name}_predicted"])
        metrics[f"{name}_recall"] = _ratio(c[f"{name}_tp"], c[f"{name}_true"])
    metrics["exact_body_rate"] = _ratio(c["exact_body_ok"], c["articles_true"])
    metrics["split_ok_exact_body_rate"] = _ratio(c["split_ok_exact_body_ok"], c["article_split_ok"])
    metrics["late_lead_exact_body_rate"] = _ratio(
        c["late_lead_exact_body_ok"], c["late_lead_articles"]
    )
    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for key, value in sorted(c.items()):
        if key.startswith("kind|"):
            _, true_kind, got_kind = key.split("|")
            confusion[true_kind][got_kind] = value
    plain = ("kind|", "split|", "split_ok|", "split_cause|", "body_cause|", "byline|", "byline_ok|")
    return {
        "counts": {k: v for k, v in sorted(c.items()) if not k.startswith(plain)},
        "metrics": metrics,
        "article_split_by": _breakdown(c, "split", "split_ok"),
        "article_split_failure_causes": _causes(c, "split_cause"),
        "exact_body_failure_causes": _causes(c, "body_cause"),
        "byline_accuracy_by_form": _breakdown(c, "byline", "byline_ok"),
        "kind_confusion": dict(confusion),
        "failures": dict(failures.examples),
        "seconds": round(seconds, 2),
    }


# --- output ------------------------------------------------------------------------------

_ROWS = (
    ("article split accuracy", "article_split_accuracy", "article_split_ok", "articles_true"),
    ("headline accuracy", "headline_accuracy", "headline_ok", "articles_true"),
    ("byline accuracy (authors and dateline)", "byline_accuracy", "byline_ok", "articles_true"),
    ("- authors", "authors_accuracy", "authors_ok", "articles_true"),
    ("- dateline", "dateline_accuracy", "dateline_ok", "articles_true"),
    ("join precision", "join_precision", "joins_tp", "joins_predicted"),
    ("join recall", "join_recall", "joins_tp", "joins_true"),
    ("- break inside a sentence", "join_recall_visible", None, "joins_visible_true"),
    ("- break right after sentence punctuation", "join_recall_hidden", None, "joins_hidden_true"),
    (
        "repeat precision (pullquote+caption+deck)",
        "repeat_precision",
        "repeat_tp",
        "repeat_predicted",
    ),
    ("repeat recall", "repeat_recall", "repeat_tp", "repeat_true"),
    ("caption precision", "caption_precision", "caption_tp", "caption_predicted"),
    ("caption recall", "caption_recall", "caption_tp", "caption_true"),
    ("sidebar precision", "sidebar_precision", "sidebar_tp", "sidebar_predicted"),
    ("sidebar recall", "sidebar_recall", "sidebar_tp", "sidebar_true"),
    ("heading precision", "heading_precision", "heading_tp", "heading_predicted"),
    ("heading recall", "heading_recall", "heading_tp", "heading_true"),
    ("exact body rate", "exact_body_rate", "exact_body_ok", "articles_true"),
    (
        "- articles split right",
        "split_ok_exact_body_rate",
        "split_ok_exact_body_ok",
        "article_split_ok",
    ),
    (
        "- late-lead articles",
        "late_lead_exact_body_rate",
        "late_lead_exact_body_ok",
        "late_lead_articles",
    ),
)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def markdown_table(result: dict[str, Any]) -> str:
    c, m = result["counts"], result["metrics"]
    out = [
        f"{c['pages']} pages, {c['articles_true']} articles ({c['articles_rebuilt']} rebuilt), "
        f"{c['lines']} lines, {result['seconds']}s",
        "",
        "| metric | value | count |",
        "|---|---:|---:|",
    ]
    for label, key, num, den in _ROWS:
        count = f"of {c[den]}" if num is None else f"{c[num]}/{c[den]}"
        out.append(f"| {label} | {_fmt(m[key])} | {count} |")
    out.append(f"| lost lines | {c['lost_lines']} | of {c['lines']} |")
    out.append(f"| duplicated lines | {c['duplicated_lines']} | of {c['lines']} |")
    out += ["", "| article split by | articles | accuracy |", "|---|---:|---:|"]
    for tag, row in result["article_split_by"].items():
        out.append(f"| {tag} | {row['n']} | {_fmt(row['accuracy'])} |")
    for tag, row in result["byline_accuracy_by_form"].items():
        out.append(f"| byline accuracy, form {tag} | {row['n']} | {_fmt(row['accuracy'])} |")
    for title, key in (
        ("article split failure cause", "article_split_failure_causes"),
        ("exact body failure cause (first found)", "exact_body_failure_causes"),
    ):
        out += ["", f"| {title} | articles |", "|---|---:|"]
        out += [f"| {cause} | {n} |" for cause, n in result[key].items()]
    return "\n".join(out)


def failures_report(result: dict[str, Any]) -> str:
    out = []
    for metric, examples in sorted(result["failures"].items()):
        out.append(f"\n### {metric}")
        for example in examples:
            out.append("- " + json.dumps(example, ensure_ascii=False, default=str))
    return "\n".join(out)


def _without_text(value: Any) -> Any:
    """The result with every corpus-text field dropped: the JSON goes into the repo."""
    if isinstance(value, dict):
        return {
            k: _without_text(v)
            for k, v in value.items()
            if not (k == "text" or k.endswith("_text"))
        }
    if isinstance(value, list | tuple):
        return [_without_text(v) for v in value]
    return value


def write_json(result: dict[str, Any], path: Path, **params: Any) -> None:
    """Atomically: a `.tmp` sibling renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"params": params, **_without_text(result)}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.page_eval",
        description="Evaluate the page rebuild on synthetic pages built from the corpus.",
    )
    parser.add_argument("--pages", type=int, default=200, help="pages to generate (200)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument(
        "--json", type=Path, help="also write the result there, and its tables as .md"
    )
    parser.add_argument(
        "--show-failures", action="store_true", help="print up to 5 failures per metric"
    )
    args = parser.parse_args(argv)

    root = corpus_root()
    if not corpus_available(root):
        print(
            f"corpus not found at {root} (stock_news_2018/manifest.tsv); "
            "set ZHNEWS_CORPUS to its folder. Nothing evaluated."
        )
        return 0
    articles = load_articles(root)
    pages = generate_pages(articles, args.pages, args.seed)

    from flows.io.nlp import load_models

    lexicon = load_models().tagger
    result = evaluate(pages, make_rebuild(lexicon))
    report = f"seed {args.seed}: {len(articles)} corpus articles\n{markdown_table(result)}"
    print(report)
    if args.show_failures:
        print(failures_report(result))
    if args.json:
        write_json(result, args.json, pages=args.pages, seed=args.seed)
        args.json.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
        print(f"\nwrote {args.json} and {args.json.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
