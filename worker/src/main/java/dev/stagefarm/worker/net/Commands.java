package dev.stagefarm.worker.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the host's network tools (ip, iptables, CNI plugins) and says what went wrong when they fail. */
final class Commands {

    private static final long TIMEOUT_SECONDS = 30;

    private Commands() {}

    /** Runs {@code cmd} with {@code stdin}; returns stdout, or throws with the tool's own message. */
    static String run(List<String> cmd, Map<String, String> env, String stdin)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(false);
        pb.environment().putAll(env);
        pb.redirectError(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        // stderr is small (one error line); drain it on the side so a chatty stdout cannot block
        StringBuilder err = new StringBuilder();
        Thread drain = Thread.ofVirtual().start(() -> err.append(readAll(p.getErrorStream())));
        String out = readAll(p.getInputStream());
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
        drain.join();
        if (p.exitValue() != 0) {
            String why = (err + " " + out).strip();
            throw new IOException(String.join(" ", cmd.subList(0, Math.min(cmd.size(), 4))) + " failed (exit "
                    + p.exitValue() + "): " + why);
        }
        return out;
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        return run(List.of(cmd), Map.of(), "");
    }

    /** Like {@link #run(String...)}, for cleanup: a failure is only returned, never thrown. */
    static boolean quietly(String... cmd) throws InterruptedException {
        try {
            run(cmd);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
