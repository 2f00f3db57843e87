"""What every service module provides: its schema and the write rules behind the generic OData engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.config import SapConfig
from atlas_desktop.sandbox.sap.errors import GatewayError
from atlas_desktop.sandbox.sap.schema import EntitySet, FunctionImport, ServiceSchema
from atlas_desktop.sandbox.sap.state import DuplicateKey, Row, State


@dataclass
class Context:
    """The tenant a request runs against and the SAP user it authenticated as."""

    state: State
    config: SapConfig
    user: str


class Service:
    """Generic rules: flat create with every key given, update of updatable properties, delete."""

    schema: ServiceSchema

    def table_name(self, eset: EntitySet) -> str:
        return eset.name

    def create(
        self, ctx: Context, eset: EntitySet, payload: dict[str, Any], navs: dict[str, list[Row]]
    ) -> Row:
        if navs:
            raise GatewayError(
                400, errors.NOT_ALLOWED, f"Deep insert is not supported for entity set {eset.name}"
            )
        missing = [k for k in eset.type.key if not payload.get(k)]
        if missing:
            raise GatewayError(400, errors.INVALID_PAYLOAD, f"Key property '{missing[0]}' must be given")
        row = self.defaults(ctx, eset)
        row.update(payload)
        self.stamp(ctx, eset, row, created=True)
        try:
            return ctx.state.insert(self.table_name(eset), row)
        except DuplicateKey:
            raise GatewayError(
                400, errors.INVALID_PAYLOAD, f"{eset.name} with this key already exists"
            ) from None

    def update(self, ctx: Context, eset: EntitySet, row: Row, changes: dict[str, Any]) -> Row:
        table = ctx.state.table(self.table_name(eset))
        merged = dict(changes)
        self.stamp(ctx, eset, merged, created=False)
        return ctx.state.update(table.name, table.key_of(row), merged)

    def delete(self, ctx: Context, eset: EntitySet, row: Row) -> None:
        table = ctx.state.table(self.table_name(eset))
        ctx.state.delete(table.name, table.key_of(row))

    def call(self, ctx: Context, fn: FunctionImport, params: dict[str, Any]) -> Row:
        raise GatewayError(501, errors.NOT_ALLOWED, f"Function import {fn.name} is not implemented")

    def defaults(self, ctx: Context, eset: EntitySet) -> Row:
        """A new row with every property of the type present (None, '' for strings, False for flags)."""
        row: Row = {}
        for prop in eset.type.props:
            if prop.type == "Edm.String":
                row[prop.name] = ""
            elif prop.type == "Edm.Boolean":
                row[prop.name] = False
            else:
                row[prop.name] = None
        return row

    def stamp(self, ctx: Context, eset: EntitySet, row: Row, *, created: bool) -> None:
        """Set change stamps (LastChangeDateTime etc.) on a new row or a change dict."""
        names = {p.name for p in eset.type.props}
        now = ctx.state.now()
        if "LastChangeDateTime" in names:
            row["LastChangeDateTime"] = now
        if created and "CreationDateTime" in names:
            row["CreationDateTime"] = now
