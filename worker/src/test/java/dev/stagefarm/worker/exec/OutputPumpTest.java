package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A real process's flood: passed on byte for byte up to the cap, then BuildKit's line, then nothing. */
class OutputPumpTest {

    private static final long CAP = 2 * StepLimits.MIB;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<String> notes = Collections.synchronizedList(new ArrayList<>());
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Test
    void aFloodIsCutExactlyAtTheCapAndTheTailStillSeesTheEnd() throws Exception {
        OutputPump pump = pump("yes | head -c 5000000; printf 'last words'", CAP);

        assertThat(bytes.size()).isEqualTo(CAP);
        assertThat(bytes.toString(StandardCharsets.US_ASCII)).isEqualTo("y\n".repeat((int) CAP / 2));
        assertThat(notes).containsExactly("[output clipped, log limit 2MiB reached]");
        assertThat(events.getLast()).as("the sink is closed last").isEqualTo("close");
        assertThat(pump.clipped()).isTrue();
        // the error message's tail is the process's real end, even past the cap
        assertThat(pump.tail()).last().isEqualTo("last words");
    }

    @Test
    void outputUpToTheCapIsNotClipped() throws Exception {
        OutputPump pump = pump("printf 'abcd'", 4);

        assertThat(bytes.toString(StandardCharsets.US_ASCII)).isEqualTo("abcd");
        assertThat(notes).isEmpty();
        assertThat(pump.clipped()).isFalse();
        assertThat(pump.tail()).containsExactly("abcd");
    }

    @Test
    void invalidUtf8PassesAsBytes() throws Exception {
        pump("printf 'a\\377\\303b\\n'", 0);

        assertThat(bytes.toByteArray()).containsExactly('a', 0xff, 0xc3, 'b', '\n');
    }

    private OutputPump pump(String script, long cap) throws Exception {
        Process p =
                new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        OutputPump pump = new OutputPump(
                p.getInputStream(),
                new StepOutput() {
                    @Override
                    public void write(byte[] b, int offset, int length) {
                        bytes.write(b, offset, length);
                        events.add("write");
                    }

                    @Override
                    public void note(String line) {
                        notes.add(line);
                        events.add("note");
                    }

                    @Override
                    public void close() {
                        events.add("close");
                    }
                },
                5,
                cap);
        pump.run();
        assertThat(p.waitFor()).isZero();
        return pump;
    }
}
