"""Command-line interface (Typer). Only this package reads argv or prints for humans."""
