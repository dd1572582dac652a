package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.WorkerInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The worker's flags: a bad value stops the worker before it starts, with a sentence. */
class WorkerCommandTest {

    @TempDir
    Path root;

    @Test
    void aDenyNetThatIsNoRangeIsRefused() {
        Run run = run("--deny-net", "10.96.0.0/12", "--deny-net", "10.0.0.0/33");

        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("not an IPv4 range: 10.0.0.0/33 (expected ADDRESS/PREFIX such as 10.96.0.0/12)");
    }

    @Test
    void anUnknownEntitlementIsRefused() {
        Run run = run("--allow", "security.insecure");

        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("unknown entitlement security.insecure for --allow: the only one is network.host");
    }

    @Test
    void aMaxLocalSizeThatIsNoSizeIsRefused() {
        Run run = run("--max-local-size", "20 gigs");

        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("--max-local-size: '20 gigs' is not a size: write a number with an optional unit");
    }

    @Test
    void aMaxLocalSizeOfZeroIsRefusedWithWhatToDoInstead() {
        Run run = run("--max-local-size", "0");

        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("--max-local-size must be above 0: leave it out for no limit");
    }

    @Test
    void anAllowFetchWithoutAPortIsRefused() {
        Run run = run("--allow-fetch", "127.0.0.1:5000", "--allow-fetch", "127.0.0.1");

        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("--allow-fetch 127.0.0.1: expected host:port such as 127.0.0.1:5000");
    }

    @Test
    void fetchAndExtractLimitsMustBeSizesAboveZero() {
        assertThat(run("--max-fetch-size", "huge").err)
                .contains("--max-fetch-size: 'huge' is not a size: write a number with an optional unit");
        assertThat(run("--max-extract-ratio", "0").err).contains("--max-extract-ratio must be above 0, not 0");
        assertThat(run("--max-extract-size", "0").exit).isEqualTo(2);
    }

    @Test
    void baseImageLimitsMustBeSizesAboveZeroAndALayerNoBiggerThanAnImage() {
        assertThat(run("--max-layer-size", "big").err)
                .contains("--max-layer-size: 'big' is not a size: write a number with an optional unit");
        assertThat(run("--max-layer-ratio", "0").err).contains("--max-layer-ratio must be above 0, not 0");
        assertThat(run("--max-layer-entries", "-1").err).contains("--max-layer-entries must be above 0, not -1");
        Run run = run("--max-layer-size", "64GiB");
        assertThat(run.exit).isEqualTo(2);
        assertThat(run.err).contains("--max-layer-size (68719476736 bytes) is above --max-image-size");
    }

    @Test
    void theWorkersListShowsDiskUsedAgainstTheBudget() {
        assertThat(WorkersCommand.disk(WorkerInfo.newBuilder()
                        .setLocalDiskUsedBytes(3L << 30)
                        .setLocalDiskBudgetBytes(20L << 30)
                        .build()))
                .isEqualTo("3.0 GiB/20.0 GiB");
        assertThat(WorkersCommand.disk(
                        WorkerInfo.newBuilder().setLocalDiskUsedBytes(512).build()))
                .isEqualTo("512 B/no budget");
    }

    record Run(int exit, String err) {}

    private Run run(String... flags) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new WorkerCommand()).setErr(new PrintWriter(err));
        String[] args = new String[flags.length + 8];
        System.arraycopy(
                new String[] {
                    "--coordinator", "127.0.0.1:1", "--cache", "127.0.0.1:1", "--root", root.toString(), "--name", "w"
                },
                0,
                args,
                0,
                8);
        System.arraycopy(flags, 0, args, 8, flags.length);
        return new Run(cli.execute(args), err.toString());
    }
}
