package dev.stagefarm.common.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.LogLine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lines again from output chunks that cut lines and characters anywhere. */
class OutputLinesTest {

    private final OutputLines lines = new OutputLines();

    @Test
    void aLineCutAcrossChunksComesOutWhole() {
        assertThat(texts(lines.accept(chunk(1, 2, "hello wo")))).isEmpty();
        assertThat(texts(lines.accept(chunk(1, 2, "rld\nsecond\nthi")))).containsExactly("hello world", "second");
        assertThat(texts(lines.accept(chunk(1, 2, "rd\r\n")))).containsExactly("third");
    }

    @Test
    void everyCutOfMultibyteTextGivesTheSameLines() {
        byte[] all = "größe 🐳 ok\nzweite ü\n".getBytes(StandardCharsets.UTF_8);
        for (int cut = 1; cut < all.length; cut++) { // workers send no empty chunk: an empty LogLine is an empty line
            OutputLines fresh = new OutputLines();
            List<String> got = new ArrayList<>(texts(fresh.accept(chunk(0, 1, Arrays.copyOfRange(all, 0, cut)))));
            got.addAll(texts(fresh.accept(chunk(0, 1, Arrays.copyOfRange(all, cut, all.length)))));
            assertThat(got).as("cut at byte %d", cut).containsExactly("größe 🐳 ok", "zweite ü");
        }
    }

    @Test
    void malformedUtf8BecomesReplacementCharacters() {
        byte[] bad = {'a', (byte) 0xff, (byte) 0xc3, 'b', '\n'};
        assertThat(texts(lines.accept(chunk(0, 1, bad)))).containsExactly("a\uFFFD\uFFFDb");
    }

    @Test
    void anUnfinishedLineComesOutWhenItsStepEndsOrBeforeAFarmNote() {
        lines.accept(chunk(0, 1, "50%"));
        lines.accept(chunk(0, 2, "other step's start"));
        assertThat(lines.end(0, 1)).containsExactly(new OutputLines.Line(0, 1, "50%"));
        assertThat(lines.end(0, 1)).isEmpty();

        List<OutputLines.Line> noted = lines.accept(LogLine.newBuilder()
                .setStageIndex(0)
                .setStepIndex(2)
                .setText("[output clipped, log limit 2MiB reached]")
                .build());
        assertThat(texts(noted)).containsExactly("other step's start", "[output clipped, log limit 2MiB reached]");
        assertThat(lines.endAll()).isEmpty();
    }

    @Test
    void stepsKeepTheirOwnUnfinishedLines() {
        lines.accept(chunk(0, 1, "a-"));
        lines.accept(chunk(1, 1, "b-"));
        assertThat(lines.accept(chunk(0, 1, "end\n"))).containsExactly(new OutputLines.Line(0, 1, "a-end"));
        assertThat(lines.endAll()).containsExactly(new OutputLines.Line(1, 1, "b-"));
    }

    @Test
    void anEndlessLineComesInPiecesWithoutSplittingACharacter() {
        // 3-byte characters never line up with the piece size, so a cut would fall inside one
        String endless = "€".repeat(20_000);
        List<String> pieces = new ArrayList<>();
        byte[] bytes = endless.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += 1000) {
            pieces.addAll(texts(lines.accept(
                    chunk(0, 1, Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + 1000))))));
        }
        pieces.addAll(texts(lines.endAll()));
        assertThat(pieces).hasSizeGreaterThan(1);
        assertThat(pieces).allSatisfy(p -> {
            assertThat(p.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(OutputLines.MAX_LINE_BYTES);
            assertThat(p).doesNotContain("\uFFFD");
        });
        assertThat(String.join("", pieces)).isEqualTo(endless);
    }

    @Test
    void aWholeLineFromAnOlderWorkerStaysALine() {
        assertThat(texts(lines.accept(
                        LogLine.newBuilder().setStepIndex(1).setText("old").build())))
                .containsExactly("old");
        assertThat(texts(lines.accept(LogLine.newBuilder().setStepIndex(1).build())))
                .containsExactly("");
    }

    private static LogLine chunk(int stage, int step, String text) {
        return chunk(stage, step, text.getBytes(StandardCharsets.UTF_8));
    }

    private static LogLine chunk(int stage, int step, byte[] data) {
        return LogLine.newBuilder()
                .setStageIndex(stage)
                .setStepIndex(step)
                .setData(ByteString.copyFrom(data))
                .build();
    }

    private static List<String> texts(List<OutputLines.Line> lines) {
        return lines.stream().map(OutputLines.Line::text).toList();
    }
}
