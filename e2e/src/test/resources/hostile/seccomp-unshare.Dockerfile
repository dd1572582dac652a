# escape: a RUN step makes a user namespace, the first move of many kernel exploits
# expect: fails Operation not permitted
FROM busybox
RUN unshare -U true
