"""The scan pipeline: target -> source -> analysers -> matchers -> ScanReport (like Trivy's scan service)."""
