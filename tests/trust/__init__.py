"""Tests for lockgate.trust: keys, blobs, images, revocation, policy."""
