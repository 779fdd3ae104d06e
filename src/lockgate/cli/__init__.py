"""Command-line interface (Typer). Only this package reads argv or prints for humans."""

import gc

# A CLI run creates many long-lived objects while importing (classes, generated dataclass
# methods, rule tables) and almost no garbage cycles; with the default gen-0 threshold (700
# allocations) start-up runs hundreds of collections that free nothing (~5 % of a warm scan).
# Cycles are still collected, just in larger batches.
gc.set_threshold(50_000, 20, 100)
