package dev.stagefarm.worker.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;

/**
 * fabric8's mock API server in CRUD mode over HTTPS, whose own clients ({@link #createClient()})
 * wait 120 s for a connection and for an answer: fabric8's 10 s to get a TLS connection to the
 * Vert.x server ran out on a loaded 2-core CI machine.
 */
public final class PatientKubernetesMockServer extends KubernetesMockServer {

    private static final int TIMEOUT_MILLIS = 120_000;

    /** @param web the HTTPS server underneath, for its port and its self-signed certificate */
    public PatientKubernetesMockServer(MockWebServer web) {
        super(new Context(), web, new HashMap<>(), new KubernetesCrudDispatcher(), true);
    }

    @Override
    protected Config initConfig() {
        Config config = super.initConfig();
        config.setConnectionTimeout(TIMEOUT_MILLIS);
        config.setRequestTimeout(TIMEOUT_MILLIS);
        return config;
    }
}
