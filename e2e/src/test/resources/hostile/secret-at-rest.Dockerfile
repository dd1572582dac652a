# escape: a build's secret left on the worker's disk, for the next build to find
# expect: ok
# scan-while: secret-step-running
# output: secret-step-done
FROM busybox
RUN --mount=type=secret,id=token,required=true --mount=type=secret,id=token,env=TOKEN \
    test -s /run/secrets/token && test -n "$TOKEN" && echo secret-step-running && sleep 8 && echo secret-step-done
