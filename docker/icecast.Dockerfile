# Icecast from Debian's icecast2 package: the same 2.4.4 the test suite runs
# against, configured by the same icecast.xml and entrypoint script (mounted
# by docker-compose.yml), rather than a third-party image with its own config.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends icecast2 gettext-base curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY icecast.xml /etc/scast/icecast.xml
COPY docker/icecast-entrypoint.sh /opt/scast/icecast-entrypoint.sh
USER icecast2
EXPOSE 8000
ENTRYPOINT ["sh", "/opt/scast/icecast-entrypoint.sh"]
