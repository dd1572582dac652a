# escape: a RUN step asks the cloud metadata address 169.254.169.254 for the host's credentials
# expect: ok
# metadata-probe
# output: can't connect to remote host (169.254.169.254): Connection refused
FROM busybox
# the suite routes 169.254.169.254 from the host to a real server (as a cloud does) for this case
RUN printf 'GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n' \
      | nc -w 5 169.254.169.254 80; true
