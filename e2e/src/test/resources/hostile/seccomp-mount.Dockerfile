# escape: a RUN step mounts a filesystem of its own choosing
# expect: fails permission denied
FROM busybox
RUN mkdir -p /m && mount -t tmpfs none /m
