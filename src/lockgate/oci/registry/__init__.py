"""OCI Distribution API client on httpx: transport, auth, credentials, pull/push, referrers."""
