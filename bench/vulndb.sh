#!/bin/sh
# Advisory DB benchmark: import the whole offline corpus (seconds, DB size), match 10,000 packages.
# Usage: bench/vulndb.sh [--packages N] [--db EXISTING.db]
set -eu
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/vulndb.py "$@"
