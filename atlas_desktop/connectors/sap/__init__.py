"""SAP S/4HANA connector (OData v2, cloud and on-premise)."""
