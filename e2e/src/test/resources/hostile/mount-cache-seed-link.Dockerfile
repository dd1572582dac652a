# escape: a cache mount seeded from a stage's link to the host's directory
# expect: fails
FROM busybox AS s
ARG HOST_DIR
RUN mkdir -p /x && ln -s "$HOST_DIR" /x/dir
FROM busybox
RUN --mount=type=cache,id=hostile-seed,target=/c,from=s,source=/x/dir cat /c/secret.txt
