"""OSV records: range evaluation (:mod:`.ranges`) and, alongside, the OSV importers."""
