"""OCI image access: references, manifests, and image sources/destinations (layout, archives, registries)."""
