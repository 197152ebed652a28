"""Data maintenance (PRD-18): search/replace in metadata and repathing storage URIs in bulk,
each a dry run first, then applied in one audited transaction."""
