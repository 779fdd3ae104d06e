"""in-toto supply-chain metadata: links, layouts, artifact rules and verification, in the formats the in-toto
reference implementation (v3) reads and writes (Metablock with hex signatures, or DSSE envelopes).

- :mod:`.keys` — securesystemslib key dicts, keyids, scheme-exact signing and verification.
- :mod:`.metadata` — load, sign and verify Metablock / DSSE metadata.
- :mod:`.artifacts` — record materials and products (streaming SHA-256 over both cores).
- :mod:`.link` — run a step and write ``<step>.<keyid[:8]>.link``.
- :mod:`.layout` — the layout model (steps, inspections, keys, expiry).
- :mod:`.rules` — MATCH/ALLOW/DISALLOW/REQUIRE/CREATE/DELETE/MODIFY.
- :mod:`.verify` — the supply-chain verification.
"""
