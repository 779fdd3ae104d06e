"""Misconfiguration scanning: Kubernetes (Pod Security Standards and hardening), RBAC, Dockerfiles, Terraform, images.

Entry points: :func:`lockgate.misconfig.scan.scan_config_paths` for files and directories,
:func:`lockgate.misconfig.imageconfig.check_image` for an image's config and file entries,
:func:`lockgate.misconfig.rules.all_rules` for the rule catalogue.
"""
