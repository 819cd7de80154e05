"""Parse JSONL article records; a bad line rejects that record only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from transforms.textclean import clean_text

_MAX_DETAIL = 200
# The longest value a metadata field may hold; `text` is bounded by the file size limit.
# A longer one is a field holding something else (a whole page, a dump), not its value.
FIELD_LIMITS = {"id": 256, "title": 1_000, "url": 4_096, "author": 100}
MAX_AUTHORS = 100


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys are unique: with a key twice, which value counts depends on
    the parser that wrote or reads the file, so the record means nothing certain."""
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


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


def _check_length(key: str, value: str) -> None:
    if len(value) > FIELD_LIMITS[key]:
        raise ValueError(f"{key} holds {len(value)} characters, more than {FIELD_LIMITS[key]}")


def _optional_str(obj: dict[str, object], key: str, *, limit: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {type(value).__name__}")
    if limit:
        _check_length(key, value)
    return clean_text(value).strip() or None


def parse_record(line: str, line_no: int, folder_date: date) -> Record | RecordRejection:
    """One JSONL line as a record, or the reason it cannot be curated."""

    def reject(reason: str, detail: str) -> RecordRejection:
        return RecordRejection(line_no, reason, detail[:_MAX_DETAIL])

    try:
        obj = json.loads(line, object_pairs_hook=_unique_keys)
    except _DuplicateKey as err:
        return reject("bad_record", str(err))
    except (ValueError, RecursionError) as err:
        # ValueError: invalid JSON, or an integer too long to convert; RecursionError:
        # nesting deeper than the parser goes.
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
        raw_date = _optional_str(obj, "pub_date", limit=False)
    except ValueError as err:
        return reject("bad_field", str(err))
    authors = obj.get("authors", [])
    if authors is None:
        authors = []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        return reject("bad_field", "authors must be a list of strings")
    if len(authors) > MAX_AUTHORS:
        return reject("bad_field", f"{len(authors)} authors, more than {MAX_AUTHORS}")
    try:
        for author in authors:
            _check_length("author", author)
    except ValueError as err:
        return reject("bad_field", str(err))
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
