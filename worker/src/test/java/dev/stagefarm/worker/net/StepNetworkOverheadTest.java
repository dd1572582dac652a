package dev.stagefarm.worker.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The budget: the default network adds at most 15 ms to a RUN step over --network=none.
 * {@code RUN true} in both, interleaved so that machine load hits both alike, medians compared;
 * with a pool of 0 as well, to show what the pool saves. bench/steps measures whole builds.
 */
class StepNetworkOverheadTest {

    private static final int PAIRS = 30;

    @TempDir
    Path tmp;

    @Test
    void theDefaultNetworkAddsAtMost15msPerStepOverNone() throws Exception {
        Path rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
        Result pooled = measure(rootfs, 4, PAIRS);
        Result fresh = measure(rootfs, 0, 10);
        System.out.printf(
                "RUN true, median of %d: none %.1f ms, default %.1f ms (pool 4), overhead %+.1f ms;"
                        + " without a pool (10): none %.1f ms, default %.1f ms, overhead %+.1f ms%n",
                PAIRS,
                pooled.none,
                pooled.dflt,
                pooled.dflt - pooled.none,
                fresh.none,
                fresh.dflt,
                fresh.dflt - fresh.none);

        assertThat(pooled.dflt - pooled.none).isLessThanOrEqualTo(15.0);
    }

    record Result(double none, double dflt) {}

    private Result measure(Path rootfs, int pool, int pairs) throws Exception {
        String key = tmp.resolve("w-" + pool).toString();
        try (CniNetwork net = CniNetwork.open(CniNetworkTest.config(key, pool))) {
            RuncExecutor executor = RuncExecutor.open(RuncExecutor.Config.defaults(Path.of(key)), net);
            List<Double> none = new ArrayList<>();
            List<Double> dflt = new ArrayList<>();
            for (int i = -2; i < pairs; i++) { // two rounds of warm-up: the pool fills, the JIT settles
                double a = time(executor, rootfs, "none");
                double b = time(executor, rootfs, "default");
                if (i >= 0) {
                    none.add(a);
                    dflt.add(b);
                }
            }
            return new Result(median(none), median(dflt));
        }
    }

    private static double time(RuncExecutor executor, Path rootfs, String network) throws Exception {
        long t0 = System.nanoTime();
        int exit = executor.run(rootfs, ProcessSpec.of("true").withNetwork(network), l -> {}, Duration.ofSeconds(60))
                .exitCode();
        assertThat(exit).isZero();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(List<Double> xs) {
        List<Double> sorted = xs.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
