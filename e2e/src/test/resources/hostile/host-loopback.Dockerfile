# escape: a RUN step calls a server on the worker host's loopback and on the host's own address
# expect: ok
# output: can't connect to remote host (127.0.0.1): Connection refused
# output: can't connect to remote host (${PROBE_HOST_ADDR}): Connection refused
FROM busybox
ARG PROBE_LOOPBACK
ARG PROBE_HOST
# nc says by itself why it could not connect (the output lines above); the suite also checks that
# the probe server behind both URLs got no request
RUN for url in "$PROBE_LOOPBACK" "$PROBE_HOST"; do \
      hostport=${url#http://}; hostport=${hostport%%/*}; \
      printf 'GET /%s HTTP/1.0\r\n\r\n' "$hostport" | nc -w 5 "${hostport%:*}" "${hostport#*:}"; \
    done; true
