# escape: COPY --chmod and --chown on a destination that is a link to the host's file
# expect: ok
# output: chmod-in-stage
FROM busybox
ARG HOST_DIR
RUN ln -s "$HOST_DIR/secret.txt" /s
COPY --chmod=777 --chown=1234:1234 <<EOT /s
replaced
EOT
RUN echo chmod-in-stage
