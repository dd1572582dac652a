package dev.stagefarm.worker.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolvConfTest {

    @TempDir
    Path tmp;

    @Test
    void aPrivateResolverIsKeptWithSearchAndOptions() throws Exception {
        Path host = Files.writeString(
                tmp.resolve("resolv.conf"), "# dhcp\nnameserver 10.255.255.53\nsearch corp.example\noptions ndots:2\n");

        ResolvConf conf = ResolvConf.forSteps(host, tmp.resolve("none"));

        assertThat(conf.text()).isEqualTo("nameserver 10.255.255.53\nsearch corp.example\noptions ndots:2\n");
    }

    @Test
    void systemdResolvedsStubIsReplacedByItsUpstreamServers() throws Exception {
        Path host = Files.writeString(tmp.resolve("resolv.conf"), "nameserver 127.0.0.53\noptions edns0\n");
        Path upstream = Files.writeString(tmp.resolve("upstream.conf"), "nameserver 192.0.2.53\nnameserver fe80::1\n");

        ResolvConf conf = ResolvConf.forSteps(host, upstream);

        assertThat(conf.text()).isEqualTo("nameserver 192.0.2.53\noptions edns0\n");
    }

    @Test
    void onlyLoopbackAndIpv6ResolversFallBackToPublicOnes() throws Exception {
        Path host = Files.writeString(tmp.resolve("resolv.conf"), "nameserver 127.0.0.1\nnameserver ::1\n");

        ResolvConf conf = ResolvConf.forSteps(host, tmp.resolve("none"));

        assertThat(conf.text()).isEqualTo("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }

    @Test
    void denyNetRangesAreParsedOrRefusedWithASentence() {
        assertThat(Cidr.parse("10.96.0.1/12").toString()).isEqualTo("10.96.0.0/12");
        assertThat(Cidr.parse("192.0.2.7").toString()).isEqualTo("192.0.2.7/32");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
                .hasMessage("not an IPv4 range: 10.0.0.0/33 (expected ADDRESS/PREFIX such as 10.96.0.0/12)");
        assertThatThrownBy(() -> Cidr.parse("fd00::/8")).hasMessageContaining("not an IPv4 range");
    }
}
