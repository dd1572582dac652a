# escape: a RUN step calls a server on the worker host's loopback and on the host's own address
# expect: ok
# output: probes-done
FROM busybox
ARG PROBE_LOOPBACK
ARG PROBE_HOST
RUN wget -q -T 3 -O- "$PROBE_LOOPBACK" ; wget -q -T 3 -O- "$PROBE_HOST" ; echo probes-done
