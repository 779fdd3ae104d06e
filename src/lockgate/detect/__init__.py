"""Content detectors run over image layers and file systems: secrets and malware."""
