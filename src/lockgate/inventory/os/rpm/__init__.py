"""RPM databases in all three formats (BerkeleyDB hash, NDB, SQLite) and the header blob reader."""
