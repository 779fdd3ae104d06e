"""Vulnerability database: advisories, version semantics per ecosystem, and matching."""
