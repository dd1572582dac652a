package dev.stagefarm.cli.commands;

import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.MetricsEndpoint;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import picocli.CommandLine.Option;

/** {@code --metrics HOST:PORT}, which every server process takes: its meters and where they are served. */
public final class MetricsOption {

    @Option(
            names = "--metrics",
            paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).")
    String address;

    /**
     * Made on first use: a Prometheus registry takes tens of milliseconds to create, and picocli
     * builds this option (before any command runs) for every server command it is given.
     */
    private PrometheusMeterRegistry registry;

    PrometheusMeterRegistry registry() {
        if (registry == null) {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            // the process itself: heap, GC, threads, classes, CPU, uptime
            new JvmMemoryMetrics().bindTo(registry);
            new JvmGcMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ClassLoaderMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
        }
        return registry;
    }

    /** The endpoint, or null when no --metrics was given (try-with-resources accepts null). */
    MetricsEndpoint serve() throws IOException {
        return address == null ? null : MetricsEndpoint.start(HostPort.parse(address), registry());
    }
}
