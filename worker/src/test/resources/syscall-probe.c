/* Tries the calls Docker's default seccomp profile refuses to a container without CAP_SYS_ADMIN
 * and prints "name=ok" or "name=ERRNO" for each. Run only inside a container: never on a host. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long rc) {
    printf("%s=%s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
}

int main(void) {
    report("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0));
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    report("unshare_user", unshare(CLONE_NEWUSER));
    report("getpid", getpid());
    return 0;
}
