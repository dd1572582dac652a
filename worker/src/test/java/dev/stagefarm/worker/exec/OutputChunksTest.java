package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A step's output in few, bounded messages, in order, and never held back long. */
class OutputChunksTest {

    /** What the sink heard: byte[] for chunks, String for notes. */
    private final List<Object> heard = Collections.synchronizedList(new ArrayList<>());

    private OutputChunks chunks() {
        return OutputChunks.start(heard::add, heard::add);
    }

    @Test
    void aFloodGoesOutInFullChunks() {
        byte[] flood = "y\n".repeat(512 * 1024).getBytes(StandardCharsets.US_ASCII); // 1 MiB
        try (OutputChunks out = chunks()) {
            out.write(flood, 0, flood.length);
        }
        assertThat(heard).hasSize(flood.length / OutputChunks.MAX_CHUNK_BYTES);
        assertThat(heard).allSatisfy(c -> assertThat((byte[]) c).hasSize(OutputChunks.MAX_CHUNK_BYTES));
        assertThat(joined()).isEqualTo(flood);
    }

    @Test
    void manySmallWritesArriveWholeInOrderAndNoChunkIsOverTheLimit() {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        try (OutputChunks out = chunks()) {
            for (int i = 0; i < 20_000; i++) {
                byte[] line = ("line " + i + "\n").getBytes(StandardCharsets.US_ASCII);
                out.write(line, 0, line.length);
                written.write(line, 0, line.length);
            }
        }
        assertThat(heard)
                .allSatisfy(c -> assertThat((byte[]) c).hasSizeLessThanOrEqualTo(OutputChunks.MAX_CHUNK_BYTES));
        assertThat(joined()).isEqualTo(written.toByteArray());
        assertThat(heard.size()).as("messages for 20000 lines").isLessThan(1000);
    }

    @Test
    void aPromptWithoutNewlineIsSentWithoutWaitingForMore() {
        OutputChunks out = chunks();
        try {
            byte[] prompt = "Downloading 50%".getBytes(StandardCharsets.US_ASCII);
            out.write(prompt, 0, prompt.length);
            // the timer sends it while the step still runs (after 100 ms; the deadline is generous)
            await().atMost(Duration.ofSeconds(30)).until(() -> heard.size() == 1);
            assertThat((byte[]) heard.getFirst()).isEqualTo(prompt);
        } finally {
            out.close();
        }
        assertThat(heard).hasSize(1);
    }

    @Test
    void aNoteComesAfterTheBytesWrittenBeforeIt() {
        try (OutputChunks out = chunks()) {
            out.write("abc".getBytes(StandardCharsets.US_ASCII), 0, 3);
            out.note("[output clipped, log limit 2MiB reached]");
            out.write("d".getBytes(StandardCharsets.US_ASCII), 0, 1);
        }
        assertThat(heard).hasSize(3);
        assertThat((byte[]) heard.get(0)).isEqualTo("abc".getBytes(StandardCharsets.US_ASCII));
        assertThat(heard.get(1)).isEqualTo("[output clipped, log limit 2MiB reached]");
        assertThat((byte[]) heard.get(2)).isEqualTo("d".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void nothingIsWrittenAfterTheEnd() {
        OutputChunks out = chunks();
        out.close();
        out.close();
        assertThatThrownBy(() -> out.write(new byte[1], 0, 1)).isInstanceOf(IllegalStateException.class);
        assertThat(heard).isEmpty();
    }

    private byte[] joined() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        synchronized (heard) {
            heard.forEach(c -> all.writeBytes((byte[]) c));
        }
        return all.toByteArray();
    }
}
