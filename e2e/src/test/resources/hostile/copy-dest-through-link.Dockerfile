# escape: COPY writes through a link the stage planted on its destination
# expect: ok
# output: copied-in-stage
FROM busybox
ARG HOST_DIR
RUN mkdir -p /d && ln -s "$HOST_DIR" /d/l && ln -s "$HOST_DIR/planted-by-copy" /d/f
COPY <<EOT /d/l/planted-by-copy
written by a hostile build
EOT
COPY <<EOT /d/f
written by a hostile build
EOT
RUN cat /d/f >/dev/null && echo copied-in-stage
