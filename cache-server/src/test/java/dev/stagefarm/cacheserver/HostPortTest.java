package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.net.HostPort;
import org.junit.jupiter.api.Test;

/** HostPort lives in common, which has no tests of its own yet; the cache-server is its first user. */
class HostPortTest {

    @Test
    void parsesHostsAndPorts() {
        assertThat(HostPort.parse("127.0.0.1:5000")).isEqualTo(new HostPort("127.0.0.1", 5000));
        assertThat(HostPort.parse("[::1]:0")).isEqualTo(new HostPort("::1", 0));
        assertThat(HostPort.parse("[::1]:0").toString()).isEqualTo("[::1]:0");
    }

    @Test
    void rejectsWhatIsNotHostColonPortWithTheExpectedForm() {
        for (String bad :
                new String[] {"5000", "127.0.0.1", ":5000", "127.0.0.1:", "host:http", "host:70000", "::1:5000"}) {
            assertThatThrownBy(() -> HostPort.parse(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("127.0.0.1:5000")
                    .hasMessageContaining(bad);
        }
    }
}
