"""SAP Gateway error responses: error.code, message{lang,value}, innererror with errordetails."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Codes marked [U] are plausible Gateway/ABAP message ids no source could confirm.
NOT_FOUND = "/IWBEP/CM_MGW_RT/020"  # "Resource not found for segment ..." [R]
BAD_REQUEST = "/IWBEP/CM_MGW_RT/022"  # [U] invalid URI / $filter syntax
INVALID_PAYLOAD = "/IWBEP/CM_MGW_RT/004"  # [U] malformed or mistyped request body
NOT_ALLOWED = "/IWBEP/CM_MGW_RT/021"  # [U] operation not supported for the entity set
NO_SERVICE = "/IWFND/MED/170"  # "No service found for namespace ..." [R]
NOT_AUTHORISED = "/IWFND/CM_CONSUMER/101"  # [U] user lacks the communication scenario
PRECONDITION_REQUIRED = "/IWBEP/CM_MGW_RT/101"  # [U] If-Match missing (428)
PRECONDITION_FAILED = "/IWBEP/CM_MGW_RT/102"  # [U] stale If-Match (412)
NOT_ACCEPTABLE = "/IWFND/CM_MGW/007"  # [U] unsupported format requested
BATCH_ERROR = "/IWBEP/CM_MGW_RT/040"  # [U] malformed $batch body
CHANGESET_DEFAULT = "/IWBEP/CM_MGW_RT/049"  # [U] number; the text is [R]
THROTTLED = "/IWFND/CM_MGW/503"  # [U] sandbox fault injection


@dataclass
class GatewayError(Exception):
    """An error answer in the Gateway JSON shape; raise it anywhere below the app and it is rendered."""

    status: int
    code: str
    message: str
    details: list[tuple[str, str]] = field(default_factory=list)  # (code, message) of errordetails
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def error_body(err: GatewayError, service: str = "") -> dict[str, object]:
    now = datetime.now(UTC)
    timestamp = now.strftime("%Y%m%d%H%M%S") + f".{now.microsecond:06d}0"
    details = err.details or [(err.code, err.message)]
    return {
        "error": {
            "code": err.code,
            "message": {"lang": "en", "value": err.message},
            "innererror": {
                "application": {
                    "component_id": "",
                    "service_namespace": "/SAP/",
                    "service_id": service,
                    "service_version": "0001",
                },
                "transactionid": uuid.uuid4().hex.upper(),
                "timestamp": timestamp,
                "Error_Resolution": _resolution(err.code == BATCH_ERROR),
                "errordetails": [
                    {
                        "code": code,
                        "message": text,
                        "longtext_url": "",
                        "propertyref": "",
                        "severity": "error",
                        "target": err.target,
                        "transition": False,
                    }
                    for code, text in details
                ],
            },
        }
    }


_TRANSACTION_HINT = (
    'For backend administrators: use ADT feed reader "SAP Gateway Error Log" or run transaction '
    "/IWFND/ERROR_LOG on SAP Gateway hub system and search for entries with the timestamp above "
    "for more details"
)
_NOTE = "See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)"
_BATCH_NOTE = (
    "See SAP Note 1869434 for details about working with $batch "
    "(https://service.sap.com/sap/support/notes/1869434)"
)


def _resolution(batch: bool) -> dict[str, str]:
    resolution = {"SAP_Transaction": _TRANSACTION_HINT, "SAP_Note": _NOTE}
    if batch:
        resolution["Batch_SAP_Note"] = _BATCH_NOTE
    return resolution


def error_bytes(err: GatewayError, service: str = "") -> bytes:
    return json.dumps(error_body(err, service)).encode()
