# Stand-in for python:3.10 (no registry here): Debian bookworm's python3.11 (the app declares
# requires-python >=3.10), with curl and bash as the official image has, and the host's CA bundle
# so uv/pip inside builds trust HTTPS.
FROM opsuite-local/debian:bookworm
LABEL org.opencontainers.image.description="opsuite-local stand-in: Debian bookworm python3.11, NOT CPython 3.10"
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv curl bash ca-certificates \
 && ln -s /usr/bin/python3 /usr/local/bin/python && rm -rf /var/lib/apt/lists/*
COPY host-ca.crt /usr/local/share/host-ca.crt
ENV SSL_CERT_FILE=/usr/local/share/host-ca.crt PIP_CERT=/usr/local/share/host-ca.crt
CMD ["python3"]
