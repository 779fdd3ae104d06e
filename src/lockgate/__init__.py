"""lockgate: secure the distribute phase of cloud-native software.

Scan images and configuration, sign and verify artifacts, encrypt layers, and gate
promotion and admission with one policy.
"""

__version__ = "0.1.0"
