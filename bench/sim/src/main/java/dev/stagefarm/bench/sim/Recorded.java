package dev.stagefarm.bench.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The costs recorded from real builds ({@code bench/sim/recorded-steps.tsv}, written by
 * {@code bench/sim/record}): per stage its work and the bytes later stages fetch from it, and
 * the rate at which workers fetched bytes.
 *
 * <p>Lines, tab-separated, {@code #} starts a comment:
 * <pre>
 * fetch  BYTES_PER_SECOND
 * stage  GRAPH  INDEX  NAME  DEPS(comma-separated indices, or -)  WORK_MILLIS  OUT_BYTES
 * </pre>
 */
record Recorded(Map<String, Graph> graphs, double fetchBytesPerSecond) {

    static final Path DEFAULT = Path.of("recorded-steps.tsv");

    Graph graph(String name) {
        Graph g = graphs.get(name);
        if (g == null) {
            throw new IllegalArgumentException("no graph " + name + " in the recorded data; it has " + graphs.keySet());
        }
        return g;
    }

    static Recorded load(Path file) throws IOException {
        Map<String, List<Stage>> stages = new LinkedHashMap<>();
        double fetch = 0;
        int lineNo = 0;
        for (String line : Files.readAllLines(file)) {
            lineNo++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            try {
                switch (f[0]) {
                    case "fetch" -> fetch = Double.parseDouble(f[1]);
                    case "stage" ->
                        stages.computeIfAbsent(f[1], g -> new ArrayList<>())
                                .add(new Stage(
                                        Integer.parseInt(f[2]),
                                        f[3],
                                        deps(f[4]),
                                        Long.parseLong(f[5]),
                                        Long.parseLong(f[6])));
                    default -> throw new IllegalArgumentException("unknown record " + f[0]);
                }
            } catch (RuntimeException e) {
                throw new IOException(
                        file + ":" + lineNo + ": " + e.getMessage() + "; re-record the file with bench/sim/record", e);
            }
        }
        if (fetch <= 0) {
            throw new IOException(file + " has no fetch rate; re-record the file with bench/sim/record");
        }
        Map<String, Graph> graphs = new LinkedHashMap<>();
        stages.forEach((name, list) -> graphs.put(name, new Graph(name, list)));
        return new Recorded(Map.copyOf(graphs), fetch);
    }

    private static Set<Integer> deps(String field) {
        Set<Integer> deps = new TreeSet<>();
        if (!field.equals("-")) {
            for (String d : field.split(",")) {
                deps.add(Integer.parseInt(d));
            }
        }
        return deps;
    }
}
