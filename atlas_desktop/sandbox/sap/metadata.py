"""$metadata (EDMX 1.0, OData v2, sap: annotations) and the service document, both from the schema."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from atlas_desktop.sandbox.sap.schema import EntitySet, EntityType, Nav, Prop, ServiceSchema

_SAP = "http://www.sap.com/Protocols/SAPData"


def _b(value: bool) -> str:
    return "true" if value else "false"


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return " ".join(f"{name}={quoteattr(value)}" for name, value in pairs)


def _property(prop: Prop) -> str:
    pairs = [("Name", prop.name), ("Type", prop.type)]
    if prop.max_length is not None:
        pairs.append(("MaxLength", str(prop.max_length)))
    if prop.precision is not None:
        pairs.append(("Precision", str(prop.precision)))
    if prop.scale is not None:
        pairs.append(("Scale", str(prop.scale)))
    if not prop.nullable:
        pairs.append(("Nullable", "false"))
    if prop.concurrency:
        pairs.append(("ConcurrencyMode", "Fixed"))
    if prop.display_format:
        pairs.append(("sap:display-format", prop.display_format))
    if prop.label:
        pairs.append(("sap:label", prop.label))
    if prop.unit:
        pairs.append(("sap:unit", prop.unit))
    if prop.semantics:
        pairs.append(("sap:semantics", prop.semantics))
    if not prop.creatable:
        pairs.append(("sap:creatable", "false"))
    if not prop.updatable:
        pairs.append(("sap:updatable", "false"))
    if not prop.sortable:
        pairs.append(("sap:sortable", "false"))
    if not prop.filterable:
        pairs.append(("sap:filterable", "false"))
    return f"<Property {_attrs(pairs)}/>"


def association_name(source: EntityType, nav: Nav) -> str:
    return f"assoc_{source.name}_{nav.name}"


def _roles(source: EntityType, nav: Nav) -> tuple[str, str]:
    return f"FromRole_{association_name(source, nav)}", f"ToRole_{association_name(source, nav)}"


def _entity_type(et: EntityType, schema: ServiceSchema) -> str:
    keys = "".join(f'<PropertyRef Name="{k}"/>' for k in et.key)
    props = "".join(_property(p) for p in et.props)
    navs = ""
    for nav in et.navs:
        from_role, to_role = _roles(et, nav)
        navs += (
            f'<NavigationProperty Name="{nav.name}" '
            f'Relationship="{schema.namespace}.{association_name(et, nav)}" '
            f'FromRole="{from_role}" ToRole="{to_role}"/>'
        )
    label = f' sap:label="{et.label}"' if et.label else ""
    return (
        f'<EntityType Name="{et.name}"{label} sap:content-version="1">'
        f"<Key>{keys}</Key>{props}{navs}</EntityType>"
    )


def _target_set(schema: ServiceSchema, nav: Nav) -> EntitySet:
    target = schema.entity_set(nav.target)
    if target is None:
        raise ValueError(f"{schema.name}: navigation {nav.name} targets unknown set {nav.target}")
    return target


def _associations(schema: ServiceSchema) -> tuple[str, str]:
    assocs, sets = "", ""
    for eset in schema.sets:
        for nav in eset.type.navs:
            target = _target_set(schema, nav)
            name = association_name(eset.type, nav)
            from_role, to_role = _roles(eset.type, nav)
            assocs += (
                f'<Association Name="{name}" sap:content-version="1">'
                f'<End Type="{schema.namespace}.{eset.type.name}" Multiplicity="1" Role="{from_role}"/>'
                f'<End Type="{schema.namespace}.{target.type.name}" '
                f'Multiplicity="{"*" if nav.many else "0..1"}" '
                f'Role="{to_role}"/></Association>'
            )
            sets += (
                f'<AssociationSet Name="{name}_set" Association="{schema.namespace}.{name}" '
                'sap:creatable="false" sap:updatable="false" sap:deletable="false" sap:content-version="1">'
                f'<End EntitySet="{eset.name}" Role="{from_role}"/>'
                f'<End EntitySet="{target.name}" Role="{to_role}"/>'
                "</AssociationSet>"
            )
    return assocs, sets


def _entity_set(eset: EntitySet, schema: ServiceSchema) -> str:
    pairs = [
        ("Name", eset.name),
        ("EntityType", f"{schema.namespace}.{eset.type.name}"),
        ("sap:creatable", _b(eset.creatable)),
        ("sap:updatable", _b(eset.updatable)),
        ("sap:deletable", _b(eset.deletable)),
        ("sap:content-version", "1"),
    ]
    if eset.label or eset.type.label:
        pairs.insert(2, ("sap:label", eset.label or eset.type.label))
    return f"<EntitySet {_attrs(pairs)}/>"


def _function(schema: ServiceSchema) -> str:
    out = ""
    for fn in schema.functions:
        target = schema.entity_set(fn.entity_set)
        assert target is not None
        params = ""
        for p in fn.params:
            pairs = [("Name", p.name), ("Type", p.type), ("Mode", "In")]
            if p.max_length is not None:
                pairs.append(("MaxLength", str(p.max_length)))
            if p.precision is not None:
                pairs.append(("Precision", str(p.precision)))
            if p.nullable:
                pairs.append(("Nullable", "true"))
            params += f"<Parameter {_attrs(pairs)}/>"
        out += (
            f'<FunctionImport Name="{fn.name}" ReturnType="{schema.namespace}.{target.type.name}" '
            f'EntitySet="{target.name}" m:HttpMethod="{fn.http_method}">{params}</FunctionImport>'
        )
    return out


def edmx(schema: ServiceSchema, service_root: str) -> bytes:
    """The EDMX document for `schema`; `service_root` is the absolute service URL (atom self links)."""
    types = "".join(_entity_type(es.type, schema) for es in schema.sets)
    assocs, assoc_sets = _associations(schema)
    sets = "".join(_entity_set(es, schema) for es in schema.sets)
    root = service_root.rstrip("/")
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        f'xmlns:sap="{_SAP}">'
        '<edmx:DataServices m:DataServiceVersion="2.0">'
        f'<Schema Namespace="{schema.namespace}" xml:lang="en" sap:schema-version="1" '
        'xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
        f"{types}{assocs}"
        f'<EntityContainer Name="{schema.container_name}" m:IsDefaultEntityContainer="true" '
        'sap:supported-formats="atom json xlsx">'
        f"{sets}{assoc_sets}{_function(schema)}</EntityContainer>"
        f'<atom:link rel="self" href="{root}/$metadata" xmlns:atom="http://www.w3.org/2005/Atom"/>'
        f'<atom:link rel="latest-version" href="{root}/$metadata" xmlns:atom="http://www.w3.org/2005/Atom"/>'
        "</Schema></edmx:DataServices></edmx:Edmx>"
    )
    return text.encode("utf-8")


def service_document_json(schema: ServiceSchema) -> dict[str, object]:
    return {"d": {"EntitySets": [es.name for es in schema.sets]}}


def service_document_xml(schema: ServiceSchema, service_root: str) -> bytes:
    root = service_root.rstrip("/") + "/"
    collections = "".join(
        f'<app:collection sap:creatable="{_b(es.creatable)}" sap:updatable="{_b(es.updatable)}" '
        f'sap:deletable="{_b(es.deletable)}" sap:content-version="1" href="{es.name}">'
        f'<atom:title type="text">{es.name}</atom:title><sap:member-title>{es.type.label}</sap:member-title>'
        "</app:collection>"
        for es in schema.sets
    )
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<app:service xml:lang="en" xml:base="{root}" xmlns:app="http://www.w3.org/2007/app" '
        f'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:sap="{_SAP}" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<app:workspace><atom:title type="text">Data</atom:title>{collections}</app:workspace>'
        f'<atom:link rel="self" href="{root}" xmlns:atom="http://www.w3.org/2005/Atom"/>'
        "</app:service>"
    )
    return text.encode("utf-8")
