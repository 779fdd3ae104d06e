"""Attestations and pipeline integrity: DSSE envelopes, in-toto Statements, predicates, attaching them to
images (cosign ``.att`` tag and OCI referrers), attestation policies, SLSA provenance and in-toto layouts.

Modules:

- :mod:`lockgate.attest.dsse` — DSSE envelopes (PAE, multiple signatures, keyid hints).
- :mod:`lockgate.attest.statement` — in-toto Statement v0.1/v1 parsing, validation and writing.
- :mod:`lockgate.attest.predicates` — cosign predicate type names and predicate validation.
- :mod:`lockgate.attest.attach` — store/find attestations next to an image.
- :mod:`lockgate.attest.verify` — verify attestations of an image.
- :mod:`lockgate.attest.policy` — Rego and CEL predicate checks.
- :mod:`lockgate.attest.provenance` — SLSA v1 provenance from the CI environment.
- :mod:`lockgate.attest.intoto` — in-toto links, layouts and supply-chain verification.
"""
