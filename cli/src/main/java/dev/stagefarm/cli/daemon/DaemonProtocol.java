package dev.stagefarm.cli.daemon;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The wire between the thin start ({@link ThinClient}) and the resident client ({@link ClientDaemon})
 * on a per-user Unix socket. JDK classes only: the thin start must not load the CLI's libraries.
 *
 * <p>Request, client to daemon: {@link #MAGIC}, the working directory, the arguments, the
 * environment, whether stdout and stderr are terminals. Then the client only ever closes the
 * connection, which cancels the command (Ctrl-C). Reply, daemon to client: frames of a type byte
 * and a length-prefixed body: {@link #STDOUT} and {@link #STDERR} bytes, then one {@link #EXIT}
 * with the exit code, or {@link #FALLBACK} before any output when this process cannot run the
 * command faithfully (the launcher then runs it in a JVM of its own).
 */
public final class DaemonProtocol {

    /** Changes whenever the request's layout does; a daemon of another layout is never reached (socket name). */
    static final int MAGIC = 0x5346_4401;

    static final byte STDOUT = 1;
    static final byte STDERR = 2;
    static final byte EXIT = 3;
    static final byte FALLBACK = 4;

    /** The thin start's exit code asking the launcher to run the command in a JVM of its own. */
    public static final int FALLBACK_EXIT_CODE = 87;

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private DaemonProtocol() {}

    static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (16 << 20)) {
            throw new IOException("bad string length " + n);
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    /**
     * This user's private directory for daemon sockets: {@code $XDG_RUNTIME_DIR/stagefarm} or
     * {@code /tmp/stagefarm-UID}, created 0700; refused when another user owns it or others may
     * enter it, since whoever can reach the socket runs builds as this user.
     */
    static Path privateDir(String xdgRuntimeDir, String tmpDir, int uid) throws IOException {
        Path dir = xdgRuntimeDir != null && !xdgRuntimeDir.isBlank()
                ? Path.of(xdgRuntimeDir, "stagefarm")
                : Path.of(tmpDir, "stagefarm-" + uid);
        int owner;
        Set<PosixFilePermission> mode;
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                } catch (FileAlreadyExistsException raced) {
                    // another start made it first; checked below like any existing directory
                }
            }
            owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new IOException(dir + " must be a directory of user " + uid + " with mode 0700 and is not usable ("
                    + e + "); set XDG_RUNTIME_DIR, or STAGEFARM_NO_DAEMON=1");
        }
        if (owner != uid || !mode.equals(OWNER_ONLY)) {
            throw new IOException(dir + " must be a directory of user " + uid + " with mode 0700 (owner " + owner
                    + ", mode " + PosixFilePermissions.toString(mode) + "); remove it or set STAGEFARM_NO_DAEMON=1");
        }
        return dir;
    }

    /** The numeric user id of this process. */
    static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }
}
