# escape: RUN --mount=type=bind,from= with a source through a link to the host's directory
# expect: fails
FROM busybox AS s
ARG HOST_DIR
RUN mkdir -p /x && ln -s / /x/root
FROM busybox
ARG HOST_DIR
RUN --mount=type=bind,from=s,source=/x/root${HOST_DIR},target=/m cat /m/secret.txt
