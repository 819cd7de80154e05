"""Parse JSONL article records; a bad line rejects that record only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from transforms.textclean import clean_text

_MAX_DETAIL = 200


@dataclass(frozen=True)
class Record:
    line_no: int
    text: str
    external_id: str | None
    title: str | None
    url: str | None
    authors: tuple[str, ...]


@dataclass(frozen=True)
class RecordRejection:
    line_no: int
    reason: str
    detail: str


def _optional_str(obj: dict[str, object], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {type(value).__name__}")
    return clean_text(value).strip() or None


def parse_record(line: str, line_no: int, folder_date: date) -> Record | RecordRejection:
    """One JSONL line as a record, or the reason it cannot be curated."""

    def reject(reason: str, detail: str) -> RecordRejection:
        return RecordRejection(line_no, reason, detail[:_MAX_DETAIL])

    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as err:
        return reject("bad_json", str(err))
    if not isinstance(obj, dict):
        return reject("bad_record", f"a record is a JSON object, not {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str):
        return reject("no_text", "text is missing" if text is None else "text is not a string")
    text = clean_text(text)
    if not text.strip():
        return reject("no_text", "text is blank")
    try:
        external_id = _optional_str(obj, "id")
        title = _optional_str(obj, "title")
        url = _optional_str(obj, "url")
        raw_date = _optional_str(obj, "pub_date")
    except ValueError as err:
        return reject("bad_field", str(err))
    authors = obj.get("authors", [])
    if authors is None:
        authors = []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        return reject("bad_field", "authors must be a list of strings")
    if raw_date is not None:
        try:
            record_date = date.fromisoformat(raw_date[:10])
        except ValueError:
            return reject("bad_date", f"pub_date {raw_date!r} is not an ISO date")
        if record_date != folder_date:
            return reject(
                "date_mismatch", f"pub_date {raw_date} differs from folder date {folder_date}"
            )
    names = tuple(dict.fromkeys(a.strip() for a in authors if a.strip()))
    return Record(line_no, text, external_id, title, url, names)


def parse_jsonl(text: str, folder_date: date) -> list[Record | RecordRejection]:
    """Every non-blank line of a JSONL file, in order; blank lines hold no record."""
    results: list[Record | RecordRejection] = []
    seen_ids: dict[str, int] = {}
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        parsed = parse_record(line, line_no, folder_date)
        if isinstance(parsed, Record) and parsed.external_id is not None:
            first = seen_ids.setdefault(parsed.external_id, line_no)
            if first != line_no:
                parsed = RecordRejection(
                    line_no, "duplicate_id", f"id {parsed.external_id!r} first seen on line {first}"
                )
        results.append(parsed)
    return results
