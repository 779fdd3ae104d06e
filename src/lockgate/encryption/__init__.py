"""OCI image layer encryption compatible with containers/ocicrypt (skopeo, containerd imgcrypt, CRI-O).

Layers are encrypted with AES-256-CTR and authenticated with HMAC-SHA256 (:mod:`.cipher`); the per-layer
key travels wrapped for each recipient in ``org.opencontainers.image.enc.keys.<scheme>`` annotations
(:mod:`.jwe`, :mod:`.pkcs7`, :mod:`.pgp`, :mod:`.pkcs11`, :mod:`.keyprovider`). :mod:`.image` encrypts,
decrypts and re-wraps whole images between any image source and destination.
"""
