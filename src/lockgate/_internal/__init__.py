"""Private helpers shared across lockgate packages; not a public API."""
