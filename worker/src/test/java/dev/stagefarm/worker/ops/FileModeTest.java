package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Applying a parsed --chmod; the grammar is tested where it lives (dockerfile's ChmodTest). */
class FileModeTest {

    static final int U = 04700, G = 02070, O = 01007, A = 07777;

    /** The parsed form, as the coordinator sends it: who, op, perms, who, op, perms, ... */
    static FileMode symbolic(Object... whoOpPerms) throws CopyException {
        var symbolic = dev.stagefarm.proto.farm.FileMode.Symbolic.newBuilder();
        for (int i = 0; i < whoOpPerms.length; i += 3) {
            symbolic.addActions(dev.stagefarm.proto.farm.FileMode.Action.newBuilder()
                    .setWho((Integer) whoOpPerms[i])
                    .setOp((String) whoOpPerms[i + 1])
                    .setPerms((String) whoOpPerms[i + 2]));
        }
        return FileMode.of(
                dev.stagefarm.proto.farm.FileMode.newBuilder()
                        .setSymbolic(symbolic)
                        .build(),
                "test");
    }

    static FileMode octal(int mode) throws CopyException {
        return FileMode.of(
                dev.stagefarm.proto.farm.FileMode.newBuilder().setOctal(mode).build(), Integer.toOctalString(mode));
    }

    @Test
    void octalReplacesThePermissionBits() throws Exception {
        assertThat(octal(0755).apply(0600, false)).isEqualTo(0755);
        assertThat(octal(04755).apply(0644, false)).isEqualTo(04755);
    }

    @Test
    void symbolicActionsEditEachFilesOwnMode() throws Exception {
        assertThat(symbolic(U, "+", "x", G, "-", "w").apply(0664, false)).isEqualTo(0744);
        assertThat(symbolic(A, "+", "x").apply(0600, false)).isEqualTo(0711);
        assertThat(symbolic(G | O, "=", "").apply(0755, false)).isEqualTo(0700);
        assertThat(symbolic(O, "=", "r").apply(0777, false)).isEqualTo(0774);
        assertThat(symbolic(U, "=", "rw", G | O, "=", "r").apply(0777, false)).isEqualTo(0644);
        assertThat(symbolic(U, "+", "s").apply(0755, false)).isEqualTo(04755);
        assertThat(symbolic(A, "+", "t").apply(0777, true)).isEqualTo(01777);
    }

    @Test
    void capitalXAddsExecuteOnlyToDirectoriesAndExecutables() throws Exception {
        FileMode mode = symbolic(A, "+", "X");
        assertThat(mode.apply(0644, false)).isEqualTo(0644);
        assertThat(mode.apply(0744, false)).isEqualTo(0755);
        assertThat(mode.apply(0700, true)).isEqualTo(0711);
    }

    @Test
    void aChmodWithoutItsParsedFormOrOutOfRangeIsRefused() {
        assertThatThrownBy(() -> FileMode.of(dev.stagefarm.proto.farm.FileMode.getDefaultInstance(), "u+x"))
                .hasMessageContaining("--chmod=u+x came without its parsed form")
                .hasMessageContaining("upgrade the coordinator");
        assertThatThrownBy(() -> octal(010000)).hasMessageContaining("beyond 07777");
        assertThatThrownBy(() -> symbolic(U, "*", "x")).hasMessageContaining("cannot apply");
    }
}
