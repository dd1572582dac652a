package dev.stagefarm.cli;

import java.util.List;

/**
 * slf4j-simple is configured through system properties, which must be set before the first
 * logger exists. Servers log at info; the build client keeps its terminal for progress and
 * only shows the embedded farm's warnings.
 */
final class Logging {

    private Logging() {}

    static void configure(String[] args) {
        boolean client = args.length > 0
                && (args[0].equals("build")
                        || args[0].equals("workers")
                        || args[0].equals("aot-workload")
                        || args[0].equals("client-daemon")
                        || args[0].equals("farm") && !(args.length > 1 && args[1].equals("serve")));
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", quiet(args) ? "error" : client ? "warn" : "info");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
        setDefault("org.slf4j.simpleLogger.logFile", "System.err");
        setDefault("org.slf4j.simpleLogger.log.io.grpc.netty", "warn");
        // gRPC asks every TCP-like channel for SO_KEEPALIVE; a Unix socket has none, and says so
        setDefault("org.slf4j.simpleLogger.log.io.netty.bootstrap", "error");
    }

    /** {@code build --progress quiet}: errors only, the embedded farm's warnings included. */
    private static boolean quiet(String[] args) {
        List<String> a = List.of(args);
        int i = a.indexOf("--progress");
        return a.contains("--progress=quiet")
                || (i >= 0 && i + 1 < a.size() && a.get(i + 1).equals("quiet"));
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
