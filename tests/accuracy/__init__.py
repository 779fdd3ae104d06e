"""Accuracy tests: real images, real advisories, expectations computed independently."""
