# escape: COPY --from follows a stage's link to the host's directory
# expect: fails does not exist
FROM busybox AS s
ARG HOST_DIR
RUN mkdir -p /x && ln -s / /x/root && ln -s "$HOST_DIR" /x/dir
FROM busybox
ARG HOST_DIR
COPY --from=s /x/root${HOST_DIR}/secret.txt /t
COPY --from=s /x/dir/secret.txt /u
