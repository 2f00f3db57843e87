"""The one schema description each emulated service is served from: $metadata, service document, data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict


class Access(TypedDict):
    """Prop's creatable/updatable pair, spread into the properties of a service (`**RO`)."""

    creatable: bool
    updatable: bool


@dataclass(frozen=True, slots=True)
class Prop:
    """One property as SAP's EDMX declares it (Edm type, facets, sap: annotations)."""

    name: str
    type: str = "Edm.String"
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    label: str = ""
    creatable: bool = True
    updatable: bool = True
    filterable: bool = True
    sortable: bool = True
    display_format: str | None = None  # sap:display-format: Date, NonNegative, UpperCase
    unit: str | None = None  # sap:unit (name of the unit property)
    semantics: str | None = None  # sap:semantics
    concurrency: bool = False  # ConcurrencyMode="Fixed": the entity's ETag is built from it

    @property
    def numc(self) -> bool:
        """NUMC-like keys: '0', '' and '000000' are the same value [U]."""
        return self.display_format == "NonNegative"


@dataclass(frozen=True, slots=True)
class Nav:
    """A navigation property: target entity set in the same service, joined on property pairs."""

    name: str
    target: str
    many: bool
    join: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class EntityType:
    name: str
    key: tuple[str, ...]
    props: tuple[Prop, ...]
    navs: tuple[Nav, ...] = ()
    label: str = ""

    def prop(self, name: str) -> Prop | None:
        return _index(self.props).get(name)

    def nav(self, name: str) -> Nav | None:
        for nav in self.navs:
            if nav.name == name:
                return nav
        return None

    @property
    def etag_prop(self) -> Prop | None:
        for p in self.props:
            if p.concurrency:
                return p
        return None


_prop_index_cache: dict[int, dict[str, Prop]] = {}


def _index(props: tuple[Prop, ...]) -> dict[str, Prop]:
    found = _prop_index_cache.get(id(props))
    if found is None:
        found = {p.name: p for p in props}
        _prop_index_cache[id(props)] = found
    return found


@dataclass(frozen=True, slots=True)
class EntitySet:
    name: str
    type: EntityType
    creatable: bool = False
    updatable: bool = False
    deletable: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class FunctionImport:
    name: str
    entity_set: str
    http_method: str
    params: tuple[Prop, ...]


@dataclass(frozen=True, slots=True)
class ServiceSchema:
    """A service: namespace, container, entity sets and function imports, plus its communication scenario."""

    name: str
    namespace: str
    scenario: str
    sets: tuple[EntitySet, ...]
    functions: tuple[FunctionImport, ...] = ()
    version: str = "0001"
    container: str = field(default="")

    @property
    def container_name(self) -> str:
        return self.container or f"{self.namespace}_Entities"

    def entity_set(self, name: str) -> EntitySet | None:
        for s in self.sets:
            if s.name == name:
                return s
        return None

    def function(self, name: str) -> FunctionImport | None:
        for f in self.functions:
            if f.name == name:
                return f
        return None


def s(name: str, length: int, **kw: object) -> Prop:
    """Edm.String with MaxLength (most SAP properties)."""
    return Prop(name, "Edm.String", max_length=length, **kw)  # type: ignore[arg-type]


def key(name: str, length: int, **kw: object) -> Prop:
    return Prop(name, "Edm.String", max_length=length, nullable=False, **kw)  # type: ignore[arg-type]


def dec(name: str, precision: int, scale: int, **kw: object) -> Prop:
    return Prop(name, "Edm.Decimal", precision=precision, scale=scale, **kw)  # type: ignore[arg-type]


def date(name: str, **kw: object) -> Prop:
    """Edm.DateTime with sap:display-format="Date" (midnight UTC on the wire)."""
    return Prop(name, "Edm.DateTime", precision=0, display_format="Date", **kw)  # type: ignore[arg-type]


def flag(name: str, **kw: object) -> Prop:
    return Prop(name, "Edm.Boolean", **kw)  # type: ignore[arg-type]
