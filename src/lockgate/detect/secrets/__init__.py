"""Secret detection: rules with keyword prefilters, a scanner, redaction and image-config checks."""
