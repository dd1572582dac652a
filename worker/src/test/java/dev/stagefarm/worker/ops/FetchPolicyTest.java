package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The address classes ADD URL refuses, and the public ones it fetches from. */
class FetchPolicyTest {

    @Test
    void refusesTheHostsOwnLinkLocalAndPrivateRangesButNotPublicAddresses() throws Exception {
        String[][] refused = {
            {"127.0.0.1", "loopback"}, {"127.255.0.9", "loopback"}, {"::1", "loopback"},
            {"0.0.0.0", "unspecified"}, {"0.1.2.3", "unspecified"}, {"::", "unspecified"},
            {"169.254.169.254", "link-local"}, {"fe80::1", "link-local"}, {"febf::1", "link-local"},
            {"10.0.0.1", "private"}, {"172.16.0.1", "private"}, {"172.31.255.254", "private"},
            {"192.168.0.1", "private"}, {"fc00::1", "private"}, {"fdff::1", "private"},
            {"100.64.0.1", "private"}, {"::127.0.0.1", "loopback"}, {"::ffff:10.0.0.1", "private"},
        };
        for (String[] r : refused) {
            assertThat(FetchPolicy.refusedKind(InetAddress.getByName(r[0])))
                    .as(r[0])
                    .hasValueSatisfying(kind -> assertThat(kind).contains(r[1]));
        }
        for (String ok : new String[] {
            "8.8.8.8",
            "151.101.2.132",
            "172.32.0.1",
            "172.15.255.1",
            "100.128.0.1",
            "2001:4860:4860::8888",
            "2a04:4e42::644"
        }) {
            assertThat(FetchPolicy.refusedKind(InetAddress.getByName(ok)))
                    .as(ok)
                    .isEmpty();
        }
    }
}
