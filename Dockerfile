# syntax=docker/dockerfile:1
# ngx-rtmp in a container, built the way nginx-rtmp-module images are: nginx from nginx.org's
# source, with the module added through nginx's own build system (`config` in this repository),
# then a slim runtime image that runs the reference configuration (nginx-conf/docker.conf).
#
#   docker build -t ngx-rtmp .                      # or: docker compose up -d
#   docker build --build-arg NGINX_VERSION=1.26.3 -t ngx-rtmp .
#   docker run -d -p 1935:1935 -p 8080:8080 ngx-rtmp
#
# NGINX_VERSION takes "1.28.3" or "nginx-1.28.3". NGINX_SHA256, when given, is checked against
# the downloaded tarball. scripts/docker-smoke builds and tests the image.

ARG NGINX_VERSION=1.28.3
ARG DEBIAN_RELEASE=bookworm

FROM rust:1-${DEBIAN_RELEASE} AS build
ARG NGINX_VERSION
ARG NGINX_SHA256=
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates curl libclang-dev libpcre2-dev libssl-dev make zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
RUN set -eu; \
    v=${NGINX_VERSION#nginx-}; \
    curl -fsSL --retry 3 -o nginx.tar.gz "https://nginx.org/download/nginx-$v.tar.gz"; \
    if [ -n "$NGINX_SHA256" ]; then echo "$NGINX_SHA256  nginx.tar.gz" | sha256sum -c -; fi; \
    mkdir nginx; \
    tar -xzf nginx.tar.gz -C nginx --strip-components=1

COPY . /src
# nginx.org's default layout (/usr/local/nginx), which the reference configuration's paths
# assume; --with-compat so that modules built elsewhere for this version load too.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    set -eu; \
    cd nginx; \
    ./configure \
        --with-compat \
        --with-threads \
        --with-http_ssl_module \
        --with-http_v2_module \
        --with-http_realip_module \
        --with-stream \
        --with-stream_ssl_module \
        --with-stream_realip_module \
        --add-dynamic-module=/src; \
    make -j"$(nproc)" NGX_RTMP_CARGO_FLAGS=--locked; \
    make install; \
    /usr/local/nginx/sbin/nginx -V

FROM debian:${DEBIAN_RELEASE}-slim
# ffmpeg for exec_push users; curl for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates curl ffmpeg libpcre2-8-0 libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /usr/local/nginx /usr/local/nginx
COPY nginx-conf/docker.conf /usr/local/nginx/conf/nginx.conf
COPY nginx-conf/stat.xsl /usr/local/nginx/html/stat.xsl

# nginx runs as an unprivileged user from the start (its ports are above 1024), so everything
# it writes belongs to that user: logs and pid, the http temp dirs, HLS and recordings.
RUN set -eu; \
    groupadd --system --gid 101 nginx; \
    useradd --system --uid 101 --gid nginx --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nginx; \
    cd /usr/local/nginx; \
    mkdir -p logs client_body_temp proxy_temp fastcgi_temp uwsgi_temp scgi_temp \
        /app/streams /app/recordings; \
    chown -R nginx:nginx logs client_body_temp proxy_temp fastcgi_temp uwsgi_temp scgi_temp \
        /app/streams /app/recordings; \
    ln -s /usr/local/nginx/sbin/nginx /usr/sbin/nginx

# The configuration passes and loads the module. Checked as root so that /dev/stderr opens
# whatever the builder's stdio is; `user` keeps the temp dirs nginx chowns on the runtime user.
RUN nginx -t -g 'user nginx;' && rm -f /usr/local/nginx/logs/nginx.pid /usr/local/nginx/logs/error.log

USER nginx

VOLUME ["/app/streams", "/app/recordings"]
EXPOSE 1935 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --start-interval=2s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/stat || exit 1
# SIGQUIT is nginx's graceful stop: sessions get to finish.
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
