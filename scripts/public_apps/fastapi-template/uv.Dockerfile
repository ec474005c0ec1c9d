# Stand-in for ghcr.io/astral-sh/uv:0.9.26: the same uv 0.9.26 binaries (PyPI wheel), at /uv and /uvx.
FROM opsuite-local/debian:bookworm
COPY uv uvx /
ENTRYPOINT ["/uv"]
