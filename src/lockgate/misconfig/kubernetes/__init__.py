"""Kubernetes manifests: loading with source positions, Pod Security Standards, hardening and RBAC checks."""
