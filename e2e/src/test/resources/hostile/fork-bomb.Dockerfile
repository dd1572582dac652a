# escape: a fork bomb takes every process slot of the worker
# expect: ok
# output: bomb-contained
# worker-after
FROM busybox
RUN (b() { b | b & }; b) 2>/dev/null; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo bomb-contained
