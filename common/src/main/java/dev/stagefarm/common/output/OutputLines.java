package dev.stagefarm.common.output;

import dev.stagefarm.proto.farm.LogLine;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lines again from a build's output, which workers send in chunks that may end inside a line or a
 * UTF-8 character (farm.proto's {@code LogLine.data}): each step's unfinished line waits for the
 * rest, or for the step's end. A line longer than {@link #MAX_LINE_BYTES} (a progress bar without
 * newlines) comes in pieces, so a reader never holds more than that per step; {@code \r\n} ends a
 * line as {@code \n} does; malformed UTF-8 becomes U+FFFD. Not thread-safe: one per reader.
 */
public final class OutputLines {

    public static final int MAX_LINE_BYTES = 16 * 1024;

    /** One line of a step's output, without its line end. */
    public record Line(int stageIndex, int stepIndex, String text) {}

    private record StepId(int stage, int step) {}

    private final Map<StepId, ByteArrayOutputStream> unfinished = new HashMap<>();

    /**
     * The lines that {@code log} completes, in order: those its bytes end, or for a whole line
     * ({@code text}, the farm's own) the step's unfinished line first, then that line.
     */
    public List<Line> accept(LogLine log) {
        StepId id = new StepId(log.getStageIndex(), log.getStepIndex());
        List<Line> out = new ArrayList<>();
        if (!log.getData().isEmpty()) {
            byte[] data = log.getData().toByteArray();
            out.addAll(write(id.stage(), id.step(), data, 0, data.length));
        }
        if (!log.getText().isEmpty() || log.getData().isEmpty()) {
            out.addAll(end(id.stage(), id.step()));
            out.add(new Line(id.stage(), id.step(), log.getText()));
        }
        return out;
    }

    /** The lines that these bytes of a step's output complete, in order. */
    public List<Line> write(int stageIndex, int stepIndex, byte[] bytes, int offset, int length) {
        StepId id = new StepId(stageIndex, stepIndex);
        ByteArrayOutputStream line = unfinished.computeIfAbsent(id, k -> new ByteArrayOutputStream());
        List<Line> out = new ArrayList<>();
        for (int i = offset; i < offset + length; i++) {
            if (bytes[i] == '\n') {
                out.add(take(id, line, line.size()));
                continue;
            }
            line.write(bytes[i]);
            if (line.size() >= MAX_LINE_BYTES) {
                out.add(take(id, line, characterBoundary(line.toByteArray())));
            }
        }
        return out;
    }

    /** The step's unfinished line, if any, as its last: the step has ended. */
    public List<Line> end(int stageIndex, int stepIndex) {
        StepId id = new StepId(stageIndex, stepIndex);
        ByteArrayOutputStream line = unfinished.remove(id);
        return line == null || line.size() == 0 ? List.of() : List.of(take(id, line, line.size()));
    }

    /** Every step's unfinished line: the build has ended. */
    public List<Line> endAll() {
        List<Line> out = new ArrayList<>();
        for (StepId id : List.copyOf(unfinished.keySet())) {
            out.addAll(end(id.stage(), id.step()));
        }
        return out;
    }

    /** The first {@code length} bytes as a line; the rest stays. */
    private static Line take(StepId id, ByteArrayOutputStream line, int length) {
        byte[] bytes = line.toByteArray();
        line.reset();
        line.write(bytes, length, bytes.length - length);
        int end = length > 0 && bytes[length - 1] == '\r' ? length - 1 : length;
        return new Line(id.stage(), id.step(), new String(bytes, 0, end, StandardCharsets.UTF_8));
    }

    /** Where a piece of a long line may end without splitting a UTF-8 character. */
    private static int characterBoundary(byte[] bytes) {
        int end = bytes.length;
        // back over continuation bytes (10xxxxxx) to the lead byte, at most a character's length
        for (int i = end - 1; i >= 0 && i >= end - 4; i--) {
            if ((bytes[i] & 0xC0) != 0x80) {
                int lead = bytes[i] & 0xFF;
                int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                return end - i >= need ? end : i == 0 ? end : i;
            }
        }
        return end;
    }
}
