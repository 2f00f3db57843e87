"""Small reusable widgets: banner, checklist, validated field, copy row, collapsible section."""
