"""The HTTP surface: the Starlette app, the credential gate in front of ``/graphql`` and the
endpoints (``/graphql``, ``/healthz``, ``/readyz``, ``/metrics``, ``/auth/nonce``)."""
