"""OS package inventory: release detection, end of life, dpkg/opkg, apk and rpm databases."""

RECORD_KEY = ("record", "dpkg-copyright")
"""Metadata marking a licence record from ``usr/share/doc/*/copyright`` (merged into its package by finalize)."""
