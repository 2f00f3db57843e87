"""OData v2 building blocks: Edm values, $filter, query options, key predicates, JSON rendering."""
