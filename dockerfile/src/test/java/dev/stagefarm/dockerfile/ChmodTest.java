package dev.stagefarm.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The --chmod grammar, parsed here once; workers apply the parsed form. */
class ChmodTest {

    @Test
    void octalIsTheModeBits() throws Exception {
        assertThat(Chmod.parse("755").octal()).hasValue(0755);
        assertThat(Chmod.parse("4755").octal()).hasValue(04755);
        assertThat(Chmod.parse("0").octal()).hasValue(0);
        assertThat(Chmod.parse("0644").actions()).isEmpty();
    }

    @Test
    void symbolicClausesBecomeActionsInOrder() throws Exception {
        Chmod mode = Chmod.parse("u+x,g-w,o=r");
        assertThat(mode.octal()).isEmpty();
        assertThat(mode.text()).isEqualTo("u+x,g-w,o=r");
        assertThat(mode.actions())
                .containsExactly(
                        new Chmod.Action(Chmod.USER, '+', "x"),
                        new Chmod.Action(Chmod.GROUP, '-', "w"),
                        new Chmod.Action(Chmod.OTHERS, '=', "r"));
    }

    @Test
    void noWhoMeansAllAndOneClauseMayHoldSeveralActions() throws Exception {
        assertThat(Chmod.parse("+x").actions()).containsExactly(new Chmod.Action(Chmod.ALL, '+', "x"));
        assertThat(Chmod.parse("go=rX-w").actions())
                .containsExactly(
                        new Chmod.Action(Chmod.GROUP | Chmod.OTHERS, '=', "rX"),
                        new Chmod.Action(Chmod.GROUP | Chmod.OTHERS, '-', "w"));
        assertThat(Chmod.parse("u=").actions()).containsExactly(new Chmod.Action(Chmod.USER, '=', ""));
    }

    @Test
    void nonsenseIsRefusedWithBothForms() {
        for (String bad : new String[] {"u+q", "9", "07777a", "u+x,", "", "755 ", "x+u", "u+x g-w"}) {
            assertThatThrownBy(() -> Chmod.parse(bad))
                    .as(bad)
                    .isInstanceOf(InvalidValueException.class)
                    .hasMessage("--chmod=" + bad
                            + ": expected an octal mode such as 0755 or a symbolic one such as u+x,g-w");
        }
    }
}
