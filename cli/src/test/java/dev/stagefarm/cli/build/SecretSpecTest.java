package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretSpecTest {

    @TempDir
    Path dir;

    @Test
    void readsAFileSecretNow() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "s3cr3t");
        assertThat(SecretSpec.readAll(List.of("id=npm,src=" + token)).get("npm"))
                .asString()
                .isEqualTo("s3cr3t");
    }

    @Test
    void anEnvSecretNamesItsVariable() throws Exception {
        // PATH is set in every test environment
        assertThat(SecretSpec.readAll(List.of("id=p,env=PATH")).get("p"))
                .asString()
                .isEqualTo(System.getenv("PATH"));
    }

    @Test
    void mistakesSayWhatToFix() {
        assertThatThrownBy(() -> SecretSpec.readAll(List.of("src=/x"))).hasMessageContaining("id= is required");
        assertThatThrownBy(() -> SecretSpec.readAll(List.of("id=a,file=/x")))
                .hasMessageContaining("unknown key \"file\"");
        assertThatThrownBy(() -> SecretSpec.readAll(List.of("id=a,env=STAGEFARM_SURELY_UNSET_VAR")))
                .hasMessageContaining("STAGEFARM_SURELY_UNSET_VAR is not set");
        assertThatThrownBy(() -> SecretSpec.readAll(List.of("id=a,src=" + dir.resolve("missing"))))
                .isInstanceOf(NoSuchFileException.class);
    }
}
