package dev.stagefarm.worker.exec;

import dev.stagefarm.common.output.OutputLines;
import java.util.function.Consumer;

/**
 * Where a step's output goes: the bytes its processes wrote, as they wrote them (a piece may end
 * inside a line or a UTF-8 character), and whole lines the farm adds (the clipped-output line).
 * Called from one thread at a time; {@link #close()} after the last.
 */
public interface StepOutput extends AutoCloseable {

    void write(byte[] bytes, int offset, int length);

    /** A whole line of the farm's own, after what was written so far. */
    void note(String line);

    /** The process's output has ended. */
    @Override
    default void close() {}

    /** Output as lines for {@code lines} (common's {@link OutputLines}: UTF-8, {@code \r\n} as one line end). */
    static StepOutput lines(Consumer<String> lines) {
        OutputLines split = new OutputLines();
        return new StepOutput() {
            @Override
            public void write(byte[] bytes, int offset, int length) {
                split.write(0, 0, bytes, offset, length).forEach(l -> lines.accept(l.text()));
            }

            @Override
            public void note(String line) {
                close();
                lines.accept(line);
            }

            @Override
            public void close() {
                split.endAll().forEach(l -> lines.accept(l.text()));
            }
        };
    }
}
