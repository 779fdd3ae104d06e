"""Advisory feeds converted into OSV-shaped advisories, the importer and ``db update``."""
