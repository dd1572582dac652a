package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FileModeTest {

    @Test
    void octalReplacesThePermissionBits() throws Exception {
        assertThat(FileMode.parse("755").apply(0600, false)).isEqualTo(0755);
        assertThat(FileMode.parse("4755").apply(0644, false)).isEqualTo(04755);
    }

    @Test
    void symbolicClausesEditEachFilesOwnMode() throws Exception {
        assertThat(FileMode.parse("u+x,g-w").apply(0664, false)).isEqualTo(0744);
        assertThat(FileMode.parse("a+x").apply(0644, false)).isEqualTo(0755);
        assertThat(FileMode.parse("+x").apply(0600, false))
                .as("no who means all")
                .isEqualTo(0711);
        assertThat(FileMode.parse("go=").apply(0755, false)).isEqualTo(0700);
        assertThat(FileMode.parse("o=r").apply(0777, false)).isEqualTo(0774);
        assertThat(FileMode.parse("u=rw,go=r").apply(0777, false)).isEqualTo(0644);
        assertThat(FileMode.parse("u+s").apply(0755, false)).isEqualTo(04755);
        assertThat(FileMode.parse("+t").apply(0777, true)).isEqualTo(01777);
    }

    @Test
    void capitalXAddsExecuteOnlyToDirectoriesAndExecutables() throws Exception {
        FileMode mode = FileMode.parse("a+X");
        assertThat(mode.apply(0644, false)).isEqualTo(0644);
        assertThat(mode.apply(0744, false)).isEqualTo(0755);
        assertThat(mode.apply(0700, true)).isEqualTo(0711);
    }

    @Test
    void nonsenseIsRefused() {
        assertThatThrownBy(() -> FileMode.parse("u+q")).hasMessageContaining("--chmod=u+q");
        assertThatThrownBy(() -> FileMode.parse("9")).hasMessageContaining("--chmod=9");
    }
}
