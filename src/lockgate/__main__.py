"""``python -m lockgate`` runs the CLI."""

from lockgate.cli.app import main

main()
