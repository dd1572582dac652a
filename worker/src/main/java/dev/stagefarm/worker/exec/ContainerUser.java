package dev.stagefarm.worker.exec;

import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.linux.FileStat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The identity a process runs as, resolved from the image's own /etc/passwd and /etc/group the way
 * Docker and runc do it.
 *
 * @param uid user id
 * @param gid primary group id
 * @param additionalGids supplementary groups: those listing the user as a member, only when the
 *     spec names no group
 * @param home home directory from passwd, "/" when the user has no entry
 */
public record ContainerUser(int uid, int gid, List<Integer> additionalGids, String home) {

    private static final long MAX_ID = Integer.MAX_VALUE;
    /** Larger passwd or group files are read only this far: a build must not fill the worker's heap. */
    private static final int MAX_FILE = 16 << 20;

    public ContainerUser {
        additionalGids = List.copyOf(additionalGids);
    }

    /**
     * Resolves a USER value: {@code ""} (root), {@code name}, {@code uid}, {@code uid:gid},
     * {@code name:group} and mixtures. A numeric id needs no passwd entry; a name does.
     */
    public static ContainerUser resolve(Path rootfs, String user) throws IOException, ExecException {
        String spec = user == null ? "" : user.strip();
        int colon = spec.indexOf(':');
        String userPart = colon < 0 ? spec : spec.substring(0, colon);
        String groupPart = colon < 0 ? "" : spec.substring(colon + 1);
        OptionalId uidArg = OptionalId.parse(userPart);
        OptionalId gidArg = OptionalId.parse(groupPart);

        List<PasswdEntry> passwd = PasswdEntry.read(rootfs, "/etc/passwd");
        Predicate<PasswdEntry> wanted = userPart.isEmpty()
                ? e -> e.uid() == 0
                : uidArg.present()
                        ? e -> e.uid() == uidArg.value()
                        : e -> e.name().equals(userPart);
        Optional<PasswdEntry> entry = passwd.stream().filter(wanted).findFirst();

        int uid = 0;
        int gid = 0;
        String home = "/";
        if (entry.isPresent()) {
            uid = entry.get().uid();
            gid = entry.get().gid();
            home = entry.get().home().isEmpty() ? "/" : entry.get().home();
        } else if (!userPart.isEmpty()) {
            if (!uidArg.present()) {
                throw new ExecException("unable to find user " + userPart + ": no matching entries in passwd file");
            }
            uid = uidArg.value();
        }

        List<Integer> additional = List.of();
        if (!groupPart.isEmpty() || entry.isPresent()) {
            List<GroupEntry> groups = GroupEntry.read(rootfs, "/etc/group");
            if (!groupPart.isEmpty()) {
                Optional<GroupEntry> group = groups.stream()
                        .filter(g -> gidArg.present()
                                ? g.gid() == gidArg.value()
                                : g.name().equals(groupPart))
                        .findFirst();
                if (group.isPresent()) {
                    gid = group.get().gid();
                } else if (gidArg.present()) {
                    gid = gidArg.value();
                } else {
                    throw new ExecException(
                            "unable to find group " + groupPart + ": no matching entries in group file");
                }
            } else {
                String name = entry.get().name();
                additional = groups.stream()
                        .filter(g -> g.members().contains(name))
                        .map(GroupEntry::gid)
                        .toList();
            }
        }
        return new ContainerUser(uid, gid, additional, home);
    }

    private record OptionalId(boolean present, int value) {
        static OptionalId parse(String s) throws ExecException {
            if (s.isEmpty() || !s.chars().allMatch(Character::isDigit)) {
                return new OptionalId(false, 0);
            }
            if (s.length() > 10 || Long.parseLong(s) > MAX_ID) {
                throw new ExecException("user or group id " + s + " is out of range");
            }
            return new OptionalId(true, Integer.parseInt(s));
        }
    }

    private record PasswdEntry(String name, int uid, int gid, String home) {
        static List<PasswdEntry> read(Path rootfs, String file) throws IOException {
            List<PasswdEntry> out = new ArrayList<>();
            for (String[] f : fields(rootfs, file)) {
                if (f.length >= 4 && isId(f[2]) && isId(f[3])) {
                    out.add(new PasswdEntry(
                            f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f.length > 5 ? f[5] : ""));
                }
            }
            return out;
        }
    }

    private record GroupEntry(String name, int gid, List<String> members) {
        static List<GroupEntry> read(Path rootfs, String file) throws IOException {
            List<GroupEntry> out = new ArrayList<>();
            for (String[] f : fields(rootfs, file)) {
                if (f.length >= 3 && isId(f[2])) {
                    List<String> members = f.length > 3 && !f[3].isEmpty() ? List.of(f[3].split(",")) : List.of();
                    out.add(new GroupEntry(f[0], Integer.parseInt(f[2]), members));
                }
            }
            return out;
        }
    }

    /**
     * Colon-separated records of a file in the rootfs, read inside it (an image's /etc/passwd may be
     * a link to the host's); a missing file is an empty one, comments and blank lines are skipped.
     */
    private static List<String[]> fields(Path rootfs, String file) throws IOException {
        byte[] bytes;
        try (RootFs fs = RootFs.open(rootfs)) {
            if (!fs.stat(file).map(FileStat::isRegular).orElse(false)) {
                return List.of();
            }
            try (InputStream in = fs.newInputStream(file)) {
                bytes = in.readNBytes(MAX_FILE);
            }
        }
        List<String[]> out = new ArrayList<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#")) {
                out.add(l.split(":", -1));
            }
        }
        return out;
    }

    private static boolean isId(String s) {
        return !s.isEmpty()
                && s.length() <= 10
                && s.chars().allMatch(Character::isDigit)
                && Long.parseLong(s) <= MAX_ID;
    }
}
