/*
 * The native thin start of `bin/stagefarm build`: hands the build to this user's resident client
 * (dev.stagefarm.cli.daemon.ClientDaemon), starting one when none answers, relays its stdout and
 * stderr, and exits with the build's exit code. It speaks the same wire as ThinClient.java
 * (DaemonProtocol.java) and finds the same daemon; it exists because a JVM, however trimmed, takes
 * ~80 ms to reach main() on this kind of machine, and this takes ~1 ms: Bazel's client is native
 * for the same reason. Without a C compiler the launcher uses ThinClient.java instead.
 *
 *   stagefarm-thin JAR LAUNCHER JAVA_HOME build ARGS...
 *
 * JAR and JAVA_HOME name the daemon (a rebuilt CLI or another JDK gets a new one), LAUNCHER starts
 * it. Exit code 87 (DaemonProtocol.FALLBACK_EXIT_CODE), with nothing printed: the launcher should
 * run the command in a JVM of its own. Ctrl-C ends this process with the signal's default action;
 * the daemon sees the connection close and cancels the build.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x53464401u /* DaemonProtocol.MAGIC: changes with the request's layout */
#define FRAME_STDOUT 1
#define FRAME_STDERR 2
#define FRAME_EXIT 3
#define FRAME_FALLBACK 4
#define FALLBACK_EXIT_CODE 87
#define DAEMON_START_TIMEOUT_MS 30000

extern char **environ;

static int tracing;

/* STAGEFARM_THIN_TRACE=1: the wall clock (ms) at each stage, on stderr, as ThinClient prints it. */
static void trace(const char *what) {
    if (tracing) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        fprintf(stderr, "[thin %lld] %s\n", (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000, what);
    }
}

/* A growing request buffer: the whole request goes out in one write. */
struct buf {
    char *data;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (!grown) {
            fprintf(stderr, "error: out of memory\n");
            exit(1);
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_int(struct buf *b, uint32_t v) {
    unsigned char be[4] = {v >> 24, v >> 16, v >> 8, v};
    put(b, be, 4);
}

/* DaemonProtocol.writeString: a 4-byte big-endian length, then the bytes (UTF-8 as the shell gave them). */
static void put_bytes(struct buf *b, const char *s, size_t n) {
    put_int(b, (uint32_t) n);
    put(b, s, n);
}

static void put_string(struct buf *b, const char *s) {
    put_bytes(b, s, strlen(s));
}

/* Fills dir with this user's private socket directory, as DaemonProtocol.privateDir: 0 or -1 (said why). */
static int private_dir(char *dir, size_t size) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int blank = 1;
    for (const char *c = xdg; c && *c; c++) {
        blank &= *c == ' ' || (*c >= '\t' && *c <= '\r');
    }
    uid_t uid = getuid();
    int n = !blank ? snprintf(dir, size, "%s/stagefarm", xdg) : snprintf(dir, size, "/tmp/stagefarm-%u", uid);
    if (n < 0 || (size_t) n >= size) {
        return -1;
    }
    struct stat st;
    /* made when missing (another start may make it first); then checked like any existing one */
    if (((lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) && mkdir(dir, 0700) != 0 && errno != EEXIST)
            || lstat(dir, &st) != 0) {
        fprintf(stderr,
                "warning: no client daemon: %s must be a directory of user %u with mode 0700 and is not usable (%s); "
                "set XDG_RUNTIME_DIR, or STAGEFARM_NO_DAEMON=1\n",
                dir, uid, strerror(errno));
        return -1;
    }
    /* whoever can reach the socket runs builds as this user: only a 0700 directory of our own */
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 07777) != 0700) {
        fprintf(stderr,
                "warning: no client daemon: %s must be a directory of user %u with mode 0700 (owner %u, mode %04o); "
                "remove it or set STAGEFARM_NO_DAEMON=1\n",
                dir, uid, st.st_uid, st.st_mode & 07777);
        return -1;
    }
    return 0;
}

/*
 * The daemon's name, as ThinClient.key: FNV-1a over "JAR|MTIME_MS|SIZE|JAVA_HOME|MAGIC" (the same
 * bytes as Java's chars for an ASCII path; another path only gets a daemon of its own).
 */
static int daemon_key(const char *jar, const char *java_home, char *key, size_t size) {
    char home[PATH_MAX];
    struct stat st;
    /* the launcher's absolute jar path as it is (Java's toAbsolutePath), the JDK's real one (java.home) */
    if (jar[0] != '/' || stat(jar, &st) != 0 || !realpath(java_home, home)) {
        return -1;
    }
    long long mtime_ms = (long long) st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    char identity[3 * PATH_MAX];
    int n = snprintf(identity, sizeof identity, "%s|%lld|%lld|%s|%d", jar, mtime_ms, (long long) st.st_size,
                     home, (int) MAGIC);
    if (n < 0 || (size_t) n >= sizeof identity) {
        return -1;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        h = (h ^ (unsigned char) identity[i]) * 0x100000001b3ull;
    }
    snprintf(key, size, "%llx", (unsigned long long) h);
    return 0;
}

static int connect_to(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Starts the daemon in a session of its own (it outlives the terminal) and waits for its socket. */
static int start_and_connect(const char *launcher, const char *socket_path, const char *log) {
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        setsid();
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
            _exit(1);
        }
        /*
         * The daemon outlives this command by half an hour: it must hold none of the caller's files
         * (a script's lock, a pipe its caller reads to the end), as Java's ProcessBuilder ensures.
         */
        if (close_range(3, ~0U, 0) != 0) {
            for (long fd = 3, max = sysconf(_SC_OPEN_MAX); fd < max; fd++) {
                close((int) fd);
            }
        }
        execl(launcher, launcher, "client-daemon", "--socket", socket_path, (char *) NULL);
        _exit(127);
    }
    struct timespec tick = {0, 10 * 1000 * 1000};
    int exited = 0;
    for (int waited = 0; waited < DAEMON_START_TIMEOUT_MS; waited += 10) {
        int fd = connect_to(socket_path);
        if (fd >= 0) {
            return fd;
        }
        int status;
        /* exit 0: another daemon serves the socket (it lost the race for the lock): keep trying */
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "warning: the stagefarm client daemon did not start (see %s)\n", log);
                return -1;
            }
        }
        nanosleep(&tick, NULL);
    }
    return -1;
}

/* Writes all of p: to the daemon's socket (no SIGPIPE: a daemon gone is said) or to stdout/stderr. */
static int write_all(int fd, int to_socket, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = to_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

/* A buffered reader of the daemon's frames: a frame's type, length and bytes in one read. */
static char in_buf[1 << 16];
static size_t in_pos, in_len;

static int read_exact(int fd, void *dst, size_t n) {
    char *out = dst;
    while (n > 0) {
        if (in_pos == in_len) {
            ssize_t r = read(fd, in_buf, sizeof in_buf);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                return -1;
            }
            in_pos = 0;
            in_len = (size_t) r;
        }
        size_t take = in_len - in_pos < n ? in_len - in_pos : n;
        memcpy(out, in_buf + in_pos, take);
        in_pos += take;
        out += take;
        n -= take;
    }
    return 0;
}

static int read_int(int fd, int32_t *v) {
    unsigned char be[4];
    if (read_exact(fd, be, 4) != 0) {
        return -1;
    }
    *v = (int32_t) ((uint32_t) be[0] << 24 | (uint32_t) be[1] << 16 | (uint32_t) be[2] << 8 | be[3]);
    return 0;
}

/* Relays STDOUT and STDERR frames to file descriptors 1 and 2 until EXIT: the exit code, or -1. */
static int relay(int fd) {
    static char chunk[1 << 16];
    int first = 1;
    for (;;) {
        unsigned char type;
        if (read_exact(fd, &type, 1) != 0) {
            return -1;
        }
        if (first) {
            char what[32];
            snprintf(what, sizeof what, "frame %d", type);
            trace(what);
            first = 0;
        }
        int32_t n;
        switch (type) {
            case FRAME_STDOUT:
            case FRAME_STDERR:
                if (read_int(fd, &n) != 0 || n < 0) {
                    return -1;
                }
                while (n > 0) {
                    size_t take = (size_t) n < sizeof chunk ? (size_t) n : sizeof chunk;
                    if (read_exact(fd, chunk, take) != 0) {
                        return -1;
                    }
                    /* a closed stdout (`| head`) ends this process as it would any tool */
                    write_all(type == FRAME_STDOUT ? 1 : 2, 0, chunk, take);
                    n -= (int32_t) take;
                }
                break;
            case FRAME_EXIT:
                return read_int(fd, &n) == 0 ? n : -1;
            case FRAME_FALLBACK:
                return FALLBACK_EXIT_CODE;
            default:
                fprintf(stderr, "error: unknown frame %d from the stagefarm client daemon\n", type);
                return -1;
        }
    }
}

/* An environment entry NAME=VALUE with a non-empty NAME. */
static int is_variable(const char *entry) {
    const char *eq = strchr(entry, '=');
    return eq != NULL && eq != entry;
}

int main(int argc, char **argv) {
    tracing = getenv("STAGEFARM_THIN_TRACE") != NULL;
    trace("main");
    if (argc < 5 || strcmp(argv[4], "build") != 0) {
        return FALLBACK_EXIT_CODE;
    }
    const char *jar = argv[1], *launcher = argv[2], *java_home = argv[3];
    char dir[PATH_MAX], key[32], socket_path[PATH_MAX + 64], log[PATH_MAX + 64], cwd[PATH_MAX];
    if (private_dir(dir, sizeof dir) != 0 || daemon_key(jar, java_home, key, sizeof key) != 0
            || !getcwd(cwd, sizeof cwd)) {
        return FALLBACK_EXIT_CODE;
    }
    snprintf(socket_path, sizeof socket_path, "%s/client-%s.sock", dir, key);
    snprintf(log, sizeof log, "%s/client-%s.log", dir, key);
    int fd = connect_to(socket_path);
    if (fd < 0 && (fd = start_and_connect(launcher, socket_path, log)) < 0) {
        return FALLBACK_EXIT_CODE;
    }

    struct buf req = {0};
    put_int(&req, MAGIC);
    put_string(&req, cwd);
    put_int(&req, (uint32_t) (argc - 4));
    for (int i = 4; i < argc; i++) {
        put_string(&req, argv[i]);
    }
    /* as Java's System.getenv(): NAME=VALUE entries with a non-empty name */
    size_t count = 0;
    for (char **e = environ; *e; e++) {
        count += is_variable(*e);
    }
    put_int(&req, (uint32_t) count);
    for (char **e = environ; *e; e++) {
        if (is_variable(*e)) {
            char *eq = strchr(*e, '=');
            put_bytes(&req, *e, (size_t) (eq - *e));
            put_string(&req, eq + 1);
        }
    }
    unsigned char terminals[2] = {isatty(1) == 1, isatty(2) == 1};
    put(&req, terminals, 2);
    if (write_all(fd, 1, req.data, req.len) != 0) {
        fprintf(stderr, "error: the stagefarm client daemon went away (%s); see %s, or set STAGEFARM_NO_DAEMON=1\n",
                strerror(errno), log);
        return 1;
    }
    free(req.data);
    trace("request sent");

    int code = relay(fd);
    if (code < 0) {
        fprintf(stderr, "error: the stagefarm client daemon went away; see %s, or set STAGEFARM_NO_DAEMON=1\n", log);
        return 1;
    }
    return code;
}
