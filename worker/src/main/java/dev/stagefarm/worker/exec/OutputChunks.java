package dev.stagefarm.worker.exec;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers a step's output into chunks of at most {@link #MAX_CHUNK_BYTES}, each handed on when it
 * is full or {@link #MAX_DELAY} after its first byte, whichever comes first. One message per line
 * made {@code RUN yes} cost millions of messages (and objects) on the worker, the coordinator and
 * the client; in chunks it costs a few per 100 ms, and a slow line still shows within 100 ms.
 * Chunks and notes go out in order, one at a time, from the writer's thread or the timer's.
 */
public final class OutputChunks implements StepOutput {

    private static final Logger log = LoggerFactory.getLogger(OutputChunks.class);

    public static final int MAX_CHUNK_BYTES = 32 * 1024;
    public static final Duration MAX_DELAY = Duration.ofMillis(100);

    /** Where chunks and notes go, in the order the process and the farm wrote them. */
    public interface Sink {
        void chunk(byte[] data);

        void note(String line);
    }

    private final Sink sink;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long firstByteNanos;
    private boolean closed;
    private boolean sinkFailed;

    private OutputChunks(Sink sink) {
        this.sink = sink;
    }

    /** Chunks for {@code sink}, with a timer (a virtual thread) that lives until {@link #close()}. */
    public static OutputChunks start(Sink sink) {
        OutputChunks chunks = new OutputChunks(sink);
        Thread.ofVirtual().name("output-chunks").start(chunks::flushWhenDue);
        return chunks;
    }

    /** Chunks for {@code chunks}, notes for {@code notes}. */
    public static OutputChunks start(Consumer<byte[]> chunks, Consumer<String> notes) {
        return start(new Sink() {
            @Override
            public void chunk(byte[] data) {
                chunks.accept(data);
            }

            @Override
            public void note(String line) {
                notes.accept(line);
            }
        });
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        if (closed) {
            throw new IllegalStateException("output written after its end");
        }
        while (length > 0) {
            if (pending.size() == 0) {
                firstByteNanos = System.nanoTime();
                notifyAll(); // the timer starts counting
            }
            int n = Math.min(length, MAX_CHUNK_BYTES - pending.size());
            pending.write(bytes, offset, n);
            offset += n;
            length -= n;
            if (pending.size() == MAX_CHUNK_BYTES) {
                emit();
            }
        }
    }

    @Override
    public synchronized void note(String line) {
        emit();
        send(() -> sink.note(line));
    }

    /** Hands on what is pending and stops the timer. */
    @Override
    public synchronized void close() {
        if (!closed) {
            emit();
            closed = true;
            notifyAll();
        }
    }

    private synchronized void flushWhenDue() {
        try {
            while (!closed) {
                if (pending.size() == 0) {
                    wait();
                    continue;
                }
                long left = firstByteNanos + MAX_DELAY.toNanos() - System.nanoTime();
                if (left > 0) {
                    wait(Math.max(1, left / 1_000_000));
                } else {
                    emit();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void emit() {
        if (pending.size() == 0) {
            return;
        }
        byte[] data = pending.toByteArray();
        pending.reset();
        send(() -> sink.chunk(data));
    }

    private void send(Runnable toSink) {
        if (sinkFailed) {
            return;
        }
        try {
            toSink.run();
        } catch (RuntimeException e) {
            sinkFailed = true; // the step goes on; its output is only kept for the error tail
            log.warn("step output could not be sent; the rest of it is dropped", e);
        }
    }
}
