# Stand-in for adminer (no registry here): Debian's adminer package served by php's built-in server on 8080.
FROM opsuite-local/debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      adminer php-cli php-pgsql && rm -rf /var/lib/apt/lists/*
EXPOSE 8080
CMD ["php", "-S", "0.0.0.0:8080", "-t", "/usr/share/adminer/adminer"]
