"""What a search box's text means for the mapping table: trimmed text, an NDC key, an FTS5 query."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from atlas_desktop.domain.ndc import NdcError, candidate_keys
from atlas_desktop.store.sqlutil import digits_only


def search_text(search: str | None) -> str:
    """Trimmed, without control characters (none can be typed, and a NUL ended FTS5's query string
    early: an SQL error instead of results)."""
    return "".join(ch for ch in (search or "") if ch.isprintable()).strip()


def review_search(search: str | None) -> str:
    """An NDC typed in any format (4-4-2, 5-3-2, 5-4-1, GTIN) becomes its 11-digit key; other text as is.

    The key is what the table holds: "12345-678-90" is "12345067890" there, which no fragment of the
    typed digits would find."""
    text = search_text(search)
    if not any(ch.isdigit() for ch in text) or len(text) < 10:
        return text
    try:
        keys = candidate_keys(text)
    except NdcError:
        return text
    return next(iter(keys)) if len(keys) == 1 else text


def fts_phrase(text: str) -> str:
    """An FTS5 query matching `text` as a substring; an NDC typed with hyphens also matches its digits."""
    phrases = [text]
    digits = digits_only(text)
    if len(digits) >= 3 and digits != text:
        phrases.append(digits)
    return " OR ".join('"' + phrase.replace('"', '""') + '"' for phrase in phrases)


def fts_ids(text: str) -> Any:
    """The mapping ids whose search text holds `text` (the trigram index: any fragment of 3+ characters)."""
    return (
        sa.text("SELECT rowid FROM mapping_search WHERE mapping_search MATCH :fts")
        .bindparams(fts=fts_phrase(text))
        .columns(sa.column("rowid"))
    )
