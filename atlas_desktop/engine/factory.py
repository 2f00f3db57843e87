"""Builds the connector for a stored connection, so callers need not know which ERP it is."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.proxy import PROXY, PROXY_PASSWORD

_CONNECTOR_MODULES: dict[ErpType, str] = {
    ErpType.NETSUITE: "atlas_desktop.connectors.netsuite",
    ErpType.SAP_CLOUD: "atlas_desktop.connectors.sap",
    ErpType.SAP_ONPREM: "atlas_desktop.connectors.sap",
}


def with_network_defaults(spec: ConnectionSpec, network: Mapping[str, Any]) -> ConnectionSpec:
    """App-wide proxy / CA bundle apply unless the connection sets its own.

    The app proxy's password (`proxy_password`, from the vault) goes with the app proxy only: never into
    the plain settings, and never onto a connection's own proxy.
    """
    if not network:
        return spec
    plain = {name: value for name, value in network.items() if name != PROXY_PASSWORD}
    secrets = dict(spec.secrets)
    if not spec.settings.get(PROXY) and plain.get(PROXY):
        secrets.pop(PROXY_PASSWORD, None)
        if network.get(PROXY_PASSWORD) is not None:
            secrets[PROXY_PASSWORD] = network[PROXY_PASSWORD]
    return replace(spec, settings={**plain, **spec.settings}, secrets=secrets)


def _connector_module(spec: ConnectionSpec) -> Any:
    module_name = _CONNECTOR_MODULES.get(spec.erp_type)
    if module_name is None:
        raise ConfigError(
            "erp_type",
            f"this version of Atlas Desktop has no {spec.erp_type.value} connector yet",
            fix="Update Atlas Desktop.",
        )
    return importlib.import_module(module_name)


def build_erp_connector(spec: ConnectionSpec, **options: Any) -> ErpConnector:
    connector: ErpConnector = _connector_module(spec).build_connector(spec, **options)
    return connector


def check_connector_settings(spec: ConnectionSpec) -> None:
    """The connector's own check of the settings (ids, location map, page size...), before storing."""
    _connector_module(spec).check_settings(spec)
