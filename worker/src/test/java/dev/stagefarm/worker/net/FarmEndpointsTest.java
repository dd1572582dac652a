package dev.stagefarm.worker.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.net.HostPort;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The farm's own servers are ranges no step may reach: the coordinator's and the cache-server's
 * addresses on every port, so the cache-server's data port too, which clients dial on the
 * cache-server's own host (the server advertises only its port number).
 */
class FarmEndpointsTest {

    private static final List<Cidr> DENY = List.of(Cidr.parse("10.96.0.0/12"));

    @Test
    void theCoordinatorAndTheCacheServerAreRefusedOnEveryPortTheDataPortIncluded() throws Exception {
        String cache = "192.0.2.41:7001";

        List<Cidr> refused = FarmEndpoints.refused(DENY, "192.0.2.40:7000", cache);

        assertThat(refused).containsExactly(DENY.get(0), Cidr.parse("192.0.2.40/32"), Cidr.parse("192.0.2.41/32"));
        // the data port is the cache-server's host with another port: the /32 refuses every port
        Inet4Address dataPortHost =
                (Inet4Address) InetAddress.getByName(HostPort.parse(cache).host());
        assertThat(refused).anyMatch(c -> c.contains(dataPortHost));
    }

    @Test
    void everyFormOfAnEndpointTheWorkerTakesIsUnderstood() {
        assertThat(FarmEndpoints.refused(DENY, "dns:///192.0.2.50:7000", "tcp://192.0.2.51:7001"))
                .containsExactly(DENY.get(0), Cidr.parse("192.0.2.50/32"), Cidr.parse("192.0.2.51/32"));
        // one server named twice, or inside a --deny-net range already, is one rule
        assertThat(FarmEndpoints.refused(List.of(Cidr.parse("192.0.2.60/32")), "192.0.2.60:7000", "192.0.2.60:7001"))
                .containsExactly(Cidr.parse("192.0.2.60/32"));
    }

    @Test
    void endpointsAStepCouldNotReachAnywayAddNothing() {
        // loopback is the step's own; the host's addresses are refused whole; in-process and
        // unix sockets never cross a network; steps have no IPv6 at all
        assertThat(FarmEndpoints.refused(
                        DENY,
                        "127.0.0.1:7000",
                        "localhost:7001",
                        "inprocess:farm-cache",
                        "unix:/run/stagefarm/coordinator.sock",
                        "[2001:db8::1]:7000"))
                .containsExactly(DENY.get(0));
    }
}
