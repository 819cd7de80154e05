"""Near-duplicate detection measured on the Sogou samples, which hold true duplicates.

Truth: two documents are duplicates when their non-empty content is identical, or their
URLs are the same once the `?query` suffix is removed (the same page crawled twice).
The detector sees only the content. Precision and recall are over document pairs.

    uv run python -m benchmarks.dedupe_eval [--corpus ../shared/corpus] [--threshold 0.8]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
from datetime import date
from pathlib import Path

import polars as pl

from transforms.dedupe import DEFAULT_THRESHOLD, assign_duplicates, signature

FILES = (
    "sogou_ca_smarty/news_tensite_xml.smarty.dev.utf8.dat",
    "sogou_cs_smarty/news_sohusite_xml.smarty.dev.utf8.dat",
)
_DOC = re.compile(
    r"<url>(?P<url>.*?)</url>.*?<docno>(?P<docno>.*?)</docno>.*?"
    r"<content>(?P<content>.*?)</content>",
    re.S,
)


def default_corpus() -> Path:
    return Path(
        os.environ.get("ZHNEWS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
    )


def load_docs(corpus: Path) -> list[dict[str, str]]:
    docs = []
    for name in FILES:
        text = (corpus / name).read_text(encoding="utf-8")
        for m in _DOC.finditer(text):
            content = m["content"].replace("\ue40c", "\n").strip()
            if content:
                docs.append(
                    {"docno": m["docno"], "url": m["url"].split("?")[0], "content": content}
                )
    return docs


def _clusters_to_pairs(groups: dict[str, list[int]]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for members in groups.values():
        pairs.update(itertools.combinations(sorted(members), 2))
    return pairs


def evaluate(docs: list[dict[str, str]], threshold: float) -> dict[str, float | int]:
    parent = list(range(len(docs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for key in ("content", "url"):
        first: dict[str, int] = {}
        for i, doc in enumerate(docs):
            j = first.setdefault(doc[key], i)
            parent[find(i)] = find(j)
    truth_groups: dict[str, list[int]] = {}
    for i in range(len(docs)):
        truth_groups.setdefault(str(find(i)), []).append(i)
    truth = _clusters_to_pairs(truth_groups)

    articles = pl.DataFrame(
        {
            "article_id": [str(i) for i in range(len(docs))],
            "pub_date": [date(2012, 6, 1)] * len(docs),
            "source": ["sogou"] * len(docs),
            "raw_path": [f"sogou/{i:05d}" for i in range(len(docs))],
            "raw_article_idx": list(range(len(docs))),
            "content_sha256": [hashlib.sha256(d["content"].encode()).hexdigest() for d in docs],
            "minhash": [signature(d["content"]) for d in docs],
        }
    )
    flagged = assign_duplicates(articles, articles.clear(), threshold=threshold)
    predicted_groups: dict[str, list[int]] = {}
    for article_id, duplicate_of in flagged.select("article_id", "duplicate_of").iter_rows():
        predicted_groups.setdefault(duplicate_of or article_id, []).append(int(article_id))
    predicted = _clusters_to_pairs(predicted_groups)

    hits = len(truth & predicted)
    return {
        "documents": len(docs),
        "true_pairs": len(truth),
        "predicted_pairs": len(predicted),
        "precision": hits / len(predicted) if predicted else 1.0,
        "recall": hits / len(truth) if truth else 1.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not all((args.corpus / name).exists() for name in FILES):
        print(f"corpus not found under {args.corpus}: nothing to measure")
        return 0
    result = evaluate(load_docs(args.corpus), args.threshold)
    print("| metric | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value:.3f} |" if isinstance(value, float) else f"| {key} | {value} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
