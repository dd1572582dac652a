package dev.stagefarm.worker.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code --chmod} value: octal ({@code 0755}), which replaces the permission bits, or symbolic
 * ({@code u+x,g-w,o=r}, chmod(1) clauses without a umask), which edits each file's own mode.
 */
public final class FileMode {

    private static final Pattern OCTAL = Pattern.compile("[0-7]{1,4}");
    private static final Pattern CLAUSE = Pattern.compile("([ugoa]*)((?:[-+=][rwxXst]*)+)");
    private static final Pattern ACTION = Pattern.compile("([-+=])([rwxXst]*)");

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

    public static FileMode parse(String text) throws CopyException {
        if (OCTAL.matcher(text).matches()) {
            return octal(Integer.parseInt(text, 8));
        }
        List<Action> actions = new ArrayList<>();
        for (String clause : text.split(",", -1)) {
            Matcher m = CLAUSE.matcher(clause);
            if (!m.matches()) {
                throw new CopyException("--chmod=" + text + ": expected an octal mode such as 0755 or a symbolic"
                        + " one such as u+x,g-w");
            }
            int who = 0;
            for (char c : m.group(1).toCharArray()) {
                who |= switch (c) {
                    case 'u' -> 04700;
                    case 'g' -> 02070;
                    case 'o' -> 01007;
                    default -> 07777;
                };
            }
            if (who == 0) {
                who = 07777; // no "who" means all, and no umask applies in a build
            }
            Matcher a = ACTION.matcher(m.group(2));
            while (a.find()) {
                actions.add(new Action(who, a.group(1).charAt(0), a.group(2)));
            }
        }
        return new FileMode(text, -1, List.copyOf(actions));
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
