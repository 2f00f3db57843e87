"""$batch encoding (one change set per document) and decoding of answers, failures matched by position."""

from __future__ import annotations

import json

import httpx

from atlas_desktop.connectors.sap.batch import BatchOperation, decode_batch, encode_batch


def test_encoding_has_one_changeset_per_operation_and_crlf() -> None:
    content_type, body = encode_batch(
        [BatchOperation("POST", "A_MaterialDocumentHeader", {"a": i}) for i in range(3)]
    )
    boundary = content_type.split("boundary=")[1]
    text = body.decode()
    assert text.count("Content-Type: multipart/mixed; boundary=changeset_") == 3
    assert text.count("POST A_MaterialDocumentHeader HTTP/1.1") == 3
    assert text.endswith(f"--{boundary}--\r\n")
    assert "\n" not in text.replace("\r\n", "")
    # each request: headers, one blank line, the JSON body (pyodata #136/#285: no stray blank lines)
    assert '\r\n\r\n{"a":0}\r\n--changeset_' in text


def test_decoding_success_changeset_and_failed_one() -> None:
    ok = json.dumps({"d": {"MaterialDocument": "4900000001", "MaterialDocumentYear": "2025"}})
    err = json.dumps({"error": {"code": "M7/021", "message": {"value": "Deficit"}}})
    raw = (
        "--batchresp_1\r\n"
        "Content-Type: multipart/mixed; boundary=changesetresp_1\r\n\r\n"
        "--changesetresp_1\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(ok)}\r\n\r\n{ok}\r\n"
        "--changesetresp_1--\r\n"
        "--batchresp_1\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
        f"{err}\r\n"
        "--batchresp_1--\r\n"
    )
    response = httpx.Response(
        202, content=raw.encode(), headers={"content-type": "multipart/mixed; boundary=batchresp_1"}
    )
    parts = decode_batch(response)
    assert [[p.status for p in part] for part in parts] == [[201], [400]]
    assert parts[0][0].json()["d"]["MaterialDocument"] == "4900000001"
    assert parts[1][0].json()["error"]["code"] == "M7/021"
