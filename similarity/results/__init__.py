"""A search's result, one module a job: the schema, the builder, the statistics shown, the texts
of limits and scenarios, the same-period list, the SVG charts and the CSV export."""
