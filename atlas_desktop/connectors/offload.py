"""Big response pages decoded and parsed on a worker thread, in pieces, so the event loop stays free.

The desktop app runs the engine on the GUI thread's event loop: while a large page is decoded and its
rows turned into model objects, the window cannot repaint. `off_loop` moves such work to a thread. That
alone is not enough for JSON: `json.loads` is C code that holds the GIL for the whole body, so every other
thread, the GUI thread included, waits anyway. `loads_json` therefore decodes large bodies one array
element at a time (each element still by the C decoder), and the interpreter can hand the GIL over between
elements.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from json.decoder import scanstring  # type: ignore[attr-defined]  # exported, missing from typeshed
from json.scanner import make_scanner
from typing import Any, TypeVar

T = TypeVar("T")

# Below these sizes the work is a few milliseconds: cheaper inline than a hop to a thread and back.
OFF_LOOP_BYTES = 32 * 1024
OFF_LOOP_ROWS = 200
# Bodies above this are decoded in pieces (json.loads holds the GIL for the whole body; decoding in
# pieces costs more CPU, so small bodies go whole).
PIECEWISE_BYTES = 1024 * 1024
# Objects down to this depth are walked here, key by key; an array's elements (the rows) go to the C
# decoder one by one, whole.
_WALK_DEPTH = 4

_DECODER = json.JSONDecoder()
# The C scanner json.loads uses: one value from an index. (typeshed types its argument as a scanner.)
_SCAN = make_scanner(_DECODER)  # type: ignore[arg-type]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BLANKS = frozenset(" \t\n\r")


async def off_loop(size: int, threshold: int, work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, on a worker thread when `size` (bytes or rows) reaches `threshold`."""
    if size < threshold:
        return work(*args)
    return await asyncio.to_thread(work, *args)


# A JSON escape of a UTF-16 surrogate: only then can a decoded string hold a lone one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads_json(content: bytes | str) -> Any:
    """What `json.loads(content)` returns, in pieces when large, for remote answers: every failure is
    a ValueError, including nesting too deep for the decoder (RecursionError) and lone surrogates
    (valid JSON, but no UTF-8 text: storing or logging such a string fails later, far from here)."""
    try:
        value = _loads(content)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    raw = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the JSON holds a lone UTF-16 surrogate, which is not text") from None
    return value


def _loads(content: bytes | str) -> Any:
    if len(content) < PIECEWISE_BYTES:
        return json.loads(content)
    if isinstance(content, bytes | bytearray):
        text = bytes(content).decode(json.detect_encoding(content), "surrogatepass")
    else:
        text = content
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return loads_in_pieces(text)


def loads_in_pieces(text: str) -> Any:
    """`json.loads(text)`; the outer objects are walked here and arrays decoded element by element."""
    value, end = _value(text, _skip(text, 0), 0)
    end = _skip(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _value(text: str, index: int, depth: int) -> tuple[Any, int]:
    char = text[index : index + 1]
    if depth < _WALK_DEPTH and char == "{":
        return _object(text, index + 1, depth)
    if depth < _WALK_DEPTH and char == "[":
        return _array(text, index + 1, depth)
    return _DECODER.raw_decode(text, index)


def _object(text: str, index: int, depth: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    index = _skip(text, index)
    if text[index : index + 1] == "}":
        return result, index + 1
    while True:
        if text[index : index + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, index)
        key, index = scanstring(text, index + 1)
        index = _skip(text, index)
        if text[index : index + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
        result[key], index = _value(text, _skip(text, index + 1), depth + 1)
        index = _skip(text, index)
        char = text[index : index + 1]
        if char == "}":
            return result, index + 1
        if char != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
        index = _skip(text, index + 1)


def _array(text: str, index: int, depth: int) -> tuple[list[Any], int]:
    result: list[Any] = []
    index = _skip(text, index)
    if text[index : index + 1] == "]":
        return result, index + 1
    scan, append, blanks = _SCAN, result.append, _BLANKS
    while True:
        try:
            item, index = scan(text, index)
        except StopIteration as error:
            raise json.JSONDecodeError("Expecting value", text, error.value) from None
        append(item)
        char = text[index : index + 1]
        if char in blanks and char:
            index = _skip(text, index)
            char = text[index : index + 1]
        if char == ",":
            index += 1
            if text[index : index + 1] in blanks:
                index = _skip(text, index)
            continue
        if char == "]":
            return result, index + 1
        raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
