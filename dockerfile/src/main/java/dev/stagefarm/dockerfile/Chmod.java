package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed {@code --chmod} value: octal ({@code 0755}), which replaces the permission bits, or
 * symbolic ({@code u+x,g-w,o=r}: chmod(1) clauses, applied in order with no umask), which edits
 * each file's own mode. Parsed once, here; workers receive the parsed form.
 *
 * @param text the value as written (after expansion), for history and cache keys
 * @param octal the mode bits of an octal value; empty for a symbolic one
 * @param actions the actions of a symbolic value, in order; empty for an octal one
 */
public record Chmod(String text, OptionalInt octal, List<Action> actions) {

    /** Bits a "who" letter selects: user with setuid, group with setgid, others with sticky. */
    public static final int USER = 04700;

    public static final int GROUP = 02070;
    public static final int OTHERS = 01007;
    public static final int ALL = 07777;

    private static final Pattern OCTAL = Pattern.compile("[0-7]{1,4}");
    private static final Pattern CLAUSE = Pattern.compile("([ugoa]*)((?:[-+=][rwxXst]*)+)");
    private static final Pattern ACTION = Pattern.compile("([-+=])([rwxXst]*)");

    /**
     * One action of a clause, such as the {@code -w} of {@code g-w}.
     *
     * @param who the bits the action may touch (an OR of {@link #USER}, {@link #GROUP}, {@link #OTHERS})
     * @param op {@code +}, {@code -} or {@code =}
     * @param perms any of {@code rwxXst}, possibly none ({@code u=} clears the user bits)
     */
    public record Action(int who, char op, String perms) {
        public Action {
            Objects.requireNonNull(perms, "perms");
        }
    }

    public Chmod {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(octal, "octal");
        actions = List.copyOf(actions);
    }

    /** @throws InvalidValueException naming both accepted forms */
    public static Chmod parse(String text) throws InvalidValueException {
        if (OCTAL.matcher(text).matches()) {
            return new Chmod(text, OptionalInt.of(Integer.parseInt(text, 8)), List.of());
        }
        List<Action> actions = new ArrayList<>();
        for (String clause : text.split(",", -1)) {
            Matcher m = CLAUSE.matcher(clause);
            if (!m.matches()) {
                throw new InvalidValueException(
                        "--chmod=" + text + ": expected an octal mode such as 0755 or a symbolic one such as u+x,g-w");
            }
            int who = 0;
            for (char c : m.group(1).toCharArray()) {
                who |= switch (c) {
                    case 'u' -> USER;
                    case 'g' -> GROUP;
                    case 'o' -> OTHERS;
                    default -> ALL;
                };
            }
            // no "who" means all, and no umask applies in a build
            int selected = who == 0 ? ALL : who;
            Matcher a = ACTION.matcher(m.group(2));
            while (a.find()) {
                actions.add(new Action(selected, a.group(1).charAt(0), a.group(2)));
            }
        }
        return new Chmod(text, OptionalInt.empty(), actions);
    }
}
