package dev.stagefarm.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Every byte that passes is counted, however it is read, and the meter can stop the read. */
class MeteredInputStreamTest {

    @Test
    void readsOfEveryKindAndSkipsAreCounted() throws IOException {
        AtomicLong counted = new AtomicLong();
        try (InputStream in = new MeteredInputStream(new ByteArrayInputStream(new byte[1000]), counted::addAndGet)) {
            in.read();
            in.readNBytes(99);
            in.skip(400);
            in.readAllBytes();
        }
        assertThat(counted).hasValue(1000);
    }

    @Test
    void aMeterThatThrowsStopsTheRead() throws IOException {
        AtomicLong counted = new AtomicLong();
        try (InputStream in = new MeteredInputStream(new ByteArrayInputStream(new byte[1 << 20]), n -> {
            if (counted.addAndGet(n) > 4096) {
                throw new IOException("over 4096");
            }
        })) {
            assertThatThrownBy(() -> in.readAllBytes()).hasMessage("over 4096");
        }
        assertThat(counted.get()).isLessThan(1 << 20);
    }
}
