# escape: WORKDIR creates a directory through a link to the host's directory
# expect: ok
# output: made-in-stage
FROM busybox
ARG HOST_DIR
RUN mkdir -p /x && ln -s "$HOST_DIR" /x/dir
WORKDIR /x/dir/planted-by-workdir
RUN pwd && echo made-in-stage
