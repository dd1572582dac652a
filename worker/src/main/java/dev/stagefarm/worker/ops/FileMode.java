package dev.stagefarm.worker.ops;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code --chmod} value as the coordinator parsed it (the grammar's one home is the dockerfile
 * module's {@code Chmod}): octal, which replaces the permission bits, or symbolic chmod(1)
 * actions without a umask, which edit each file's own mode.
 */
public final class FileMode {

    private record Action(int who, char op, String perms) {}

    private final String text;
    private final int octal; // -1 when symbolic
    private final List<Action> actions;

    private FileMode(String text, int octal, List<Action> actions) {
        this.text = text;
        this.octal = octal;
        this.actions = actions;
    }

    public static FileMode octal(int mode) {
        return new FileMode(Integer.toOctalString(mode), mode & 07777, List.of());
    }

    /**
     * @param text the value as written, for messages
     * @throws CopyException when the parsed form is missing or out of range
     */
    public static FileMode of(dev.stagefarm.proto.farm.FileMode spec, String text) throws CopyException {
        switch (spec.getKindCase()) {
            case OCTAL -> {
                if (spec.getOctal() > 07777) {
                    throw new CopyException("--chmod=" + text + ": mode " + Integer.toOctalString(spec.getOctal())
                            + " has bits beyond 07777");
                }
                return new FileMode(text, spec.getOctal(), List.of());
            }
            case SYMBOLIC -> {
                List<Action> actions = new ArrayList<>();
                for (dev.stagefarm.proto.farm.FileMode.Action a :
                        spec.getSymbolic().getActionsList()) {
                    if (!a.getOp().matches("[-+=]")
                            || !a.getPerms().matches("[rwxXst]*")
                            || (a.getWho() & ~07777) != 0) {
                        throw new CopyException("--chmod=" + text + ": the coordinator sent an action this worker"
                                + " cannot apply (" + a.getOp() + a.getPerms() + "): upgrade the worker");
                    }
                    actions.add(new Action(a.getWho(), a.getOp().charAt(0), a.getPerms()));
                }
                return new FileMode(text, -1, List.copyOf(actions));
            }
            default ->
                throw new CopyException("--chmod=" + text + " came without its parsed form: the coordinator is"
                        + " older than this worker; upgrade the coordinator");
        }
    }

    /** The new permission bits (with setuid/setgid/sticky) of an entry whose mode is {@code current}. */
    public int apply(int current, boolean directory) {
        if (octal >= 0) {
            return octal;
        }
        int mode = current & 07777;
        for (Action action : actions) {
            int bits = 0;
            for (char p : action.perms().toCharArray()) {
                bits |= switch (p) {
                    case 'r' -> 0444;
                    case 'w' -> 0222;
                    case 'x' -> 0111;
                    case 'X' -> directory || (mode & 0111) != 0 ? 0111 : 0;
                    case 's' -> 06000;
                    default -> 01000; // 't'
                };
            }
            bits &= action.who();
            mode = switch (action.op()) {
                case '+' -> mode | bits;
                case '-' -> mode & ~bits;
                default -> (mode & ~(action.who() & 07777)) | bits;
            };
        }
        return mode;
    }

    @Override
    public String toString() {
        return text;
    }
}
