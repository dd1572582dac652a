package dev.stagefarm.cli.daemon;

import dev.stagefarm.cli.Version;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The thin start of {@code bin/stagefarm}: a JVM that loads a few dozen JDK classes, prints the
 * version itself, and hands a build to this user's resident client ({@link ClientDaemon}),
 * starting one when none answers. It forwards the arguments, the working directory and the
 * environment, relays stdout and stderr, exits with the command's exit code, and on Ctrl-C closes
 * the connection, which cancels the build. It exits with {@link DaemonProtocol#FALLBACK_EXIT_CODE}
 * (and prints nothing) when the launcher should run the command in a JVM of its own.
 *
 * <p>System properties from the launcher: {@code stagefarm.jar} (the CLI jar, whose path and
 * modification time name the daemon, so a rebuilt CLI gets a new one) and
 * {@code stagefarm.launcher} (the script that starts the daemon).
 */
public final class ThinClient {

    private static volatile boolean cancelled;

    private ThinClient() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            System.out.println(Version.TEXT);
            System.exit(0);
        }
        int code = run(args);
        // The command's output went straight to file descriptors 1 and 2 and the socket closes
        // with the process: an orderly JVM shutdown (hooks, finalisation) would only add ~10 ms
        // to every build. Ctrl-C still runs the hook that closes the connection, which cancels.
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(code);
    }

    private static int run(String[] args) throws IOException, InterruptedException {
        trace("main");
        String jar = System.getProperty("stagefarm.jar");
        String launcher = System.getProperty("stagefarm.launcher");
        if (jar == null || launcher == null || args.length == 0 || !args[0].equals("build")) {
            return DaemonProtocol.FALLBACK_EXIT_CODE;
        }
        Map<String, String> env = System.getenv();
        Path dir;
        try {
            dir = DaemonProtocol.privateDir(env.get("XDG_RUNTIME_DIR"), "/tmp", DaemonProtocol.uid());
        } catch (IOException e) {
            System.err.println("warning: no client daemon: " + e.getMessage());
            return DaemonProtocol.FALLBACK_EXIT_CODE;
        }
        String name = "client-" + key(Path.of(jar));
        Path socket = dir.resolve(name + ".sock");
        SocketChannel channel = connect(socket);
        if (channel == null) {
            channel = startAndConnect(launcher, socket, dir.resolve(name + ".log"));
            if (channel == null) {
                return DaemonProtocol.FALLBACK_EXIT_CODE;
            }
        }
        SocketChannel connection = channel;
        // Ctrl-C (SIGINT, SIGTERM): the JVM runs this hook and exits 130/143; the daemon sees the
        // connection close and cancels the build.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cancelled = true;
            try {
                connection.close();
            } catch (IOException e) {
                // closing is all we can do
            }
        }));
        try {
            DataOutputStream request =
                    new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel)));
            request.writeInt(DaemonProtocol.MAGIC);
            DaemonProtocol.writeString(request, Path.of("").toAbsolutePath().toString());
            request.writeInt(args.length);
            for (String a : args) {
                DaemonProtocol.writeString(request, a);
            }
            request.writeInt(env.size());
            for (Map.Entry<String, String> e : env.entrySet()) {
                DaemonProtocol.writeString(request, e.getKey());
                DaemonProtocol.writeString(request, e.getValue());
            }
            request.writeBoolean(isTerminal(1));
            request.writeBoolean(isTerminal(2));
            request.flush();
            // buffered: a frame's type, length and bytes in one read, not one system call each
            return relay(new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 1 << 16)));
        } catch (IOException e) {
            if (cancelled) {
                return 130;
            }
            System.err.println("error: the stagefarm client daemon went away (" + e.getMessage() + "); see "
                    + dir.resolve(name + ".log") + ", or set STAGEFARM_NO_DAEMON=1");
            return 1;
        }
    }

    private static int relay(DataInputStream in) throws IOException {
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        OutputStream err = new FileOutputStream(FileDescriptor.err);
        boolean trace = System.getenv("STAGEFARM_THIN_TRACE") != null;
        trace("request sent");
        while (true) {
            byte type = in.readByte();
            if (trace) {
                trace("frame " + type);
                trace = false;
            }
            switch (type) {
                case DaemonProtocol.STDOUT, DaemonProtocol.STDERR -> {
                    byte[] b = in.readNBytes(in.readInt());
                    (type == DaemonProtocol.STDOUT ? out : err).write(b);
                }
                case DaemonProtocol.EXIT -> {
                    return in.readInt();
                }
                case DaemonProtocol.FALLBACK -> {
                    return DaemonProtocol.FALLBACK_EXIT_CODE;
                }
                default -> throw new IOException("unknown frame " + type);
            }
        }
    }

    /** STAGEFARM_THIN_TRACE=1: the wall clock (ms) at each stage, on stderr, for bench/README.md's breakdown. */
    private static void trace(String what) {
        if (System.getenv("STAGEFARM_THIN_TRACE") != null) {
            System.err.println("[thin " + System.currentTimeMillis() + "] " + what);
        }
    }

    private static SocketChannel connect(Path socket) {
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return null;
        }
    }

    /** Starts this user's daemon in a session of its own (it outlives the terminal) and waits for it. */
    private static SocketChannel startAndConnect(String launcher, Path socket, Path log)
            throws IOException, InterruptedException {
        Process daemon = new ProcessBuilder("setsid", launcher, "client-daemon", "--socket", socket.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            SocketChannel channel = connect(socket);
            if (channel != null) {
                return channel;
            }
            if (!daemon.isAlive() && daemon.exitValue() != 0) {
                System.err.println("warning: the stagefarm client daemon did not start (see " + log + ")");
                return null;
            }
            Thread.sleep(10);
        }
        return null;
    }

    /** Names the daemon by the CLI it runs: a rebuilt jar (new modification time) gets a new daemon. */
    static String key(Path jar) throws IOException {
        String identity =
                jar.toAbsolutePath() + "|" + Files.getLastModifiedTime(jar).toMillis() + "|" + Files.size(jar) + "|"
                        + System.getProperty("java.home") + "|" + DaemonProtocol.MAGIC;
        long h = 0xcbf29ce484222325L; // FNV-1a: a name, not a secret
        for (int i = 0; i < identity.length(); i++) {
            h = (h ^ identity.charAt(i)) * 0x100000001b3L;
        }
        return Long.toHexString(h);
    }

    /** Whether file descriptor {@code fd} of this process is a terminal (without loading the JDK's console). */
    private static boolean isTerminal(int fd) {
        try {
            String target =
                    Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
