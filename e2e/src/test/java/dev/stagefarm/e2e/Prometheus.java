package dev.stagefarm.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Reads a process's Prometheus endpoint. */
final class Prometheus {

    private Prometheus() {}

    /** The sum of a metric's samples whose labels contain {@code labels} (e.g. {@code area="heap"}). */
    static double sum(String scrape, String metric, String labels) {
        double sum = 0;
        for (String line : scrape.lines().toList()) {
            if (line.startsWith(metric + "{")
                    && line.substring(0, line.lastIndexOf('}')).contains(labels)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    static String scrape(String hostPort) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(
                            HttpRequest.newBuilder(URI.create("http://" + hostPort + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        }
    }
}
