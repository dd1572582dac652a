package dev.stagefarm.cacheserver;

import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.cacheserver.store.BlobWriter;
import dev.stagefarm.cacheserver.store.Namespace;
import dev.stagefarm.cacheserver.store.NamespaceStore;
import dev.stagefarm.cacheserver.store.RocksStore;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.cacheserver.store.StoreOptions;
import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Measures the two layouts of {@code blob_chunks} on the store itself (no gRPC): BlobDB blob
 * files against chunks inside the SST files. Writes 2 GiB in 64 MiB blobs, reads them back
 * verified, then replaces half (delete 1 GiB, write 1 GiB) the way eviction churns a full
 * cache. Reports MB/s and the bytes the process wrote to disk per byte stored (/proc/self/io),
 * which is where compaction of large values shows. {@code LayoutBench WORK_DIR}
 */
public final class LayoutBench {

    private static final int MiB = 1 << 20;
    private static final int BLOB = 64 * MiB;
    private static final int BLOBS = 32;

    private LayoutBench() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        System.out.println(
                "| blob_chunks layout | write MB/s | verified read MB/s | churn write MB/s | disk bytes written / bytes stored | disk use after churn |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (boolean blobFiles : order(args)) {
            Path dir = work.resolve(blobFiles ? "layout-blobdb" : "layout-sst");
            deleteTree(dir);
            run(dir, blobFiles);
            deleteTree(dir);
        }
    }

    /** Blob files first unless told "sst-first": run both orders to see the page cache's share. */
    private static boolean[] order(String[] args) {
        return args.length > 1 && args[1].equals("sst-first")
                ? new boolean[] {false, true}
                : new boolean[] {true, false};
    }

    private static void run(Path dir, boolean blobFiles) throws Exception {
        byte[] data = new byte[BLOB];
        List<Digest> digests = new ArrayList<>();
        long ioBefore = writtenBytes();
        double write;
        double read;
        double churn;
        long disk;
        try (RocksStore rocks = RocksStore.open(dir, new StoreOptions(0, blobFiles), Clock.systemUTC())) {
            NamespaceStore store = rocks.in(Namespace.DEFAULT);
            long start = System.nanoTime();
            for (int i = 0; i < BLOBS; i++) {
                digests.add(put(store, data, i));
            }
            write = (double) BLOBS * BLOB / 1e6 / ((System.nanoTime() - start) / 1e9);

            start = System.nanoTime();
            for (Digest d : digests) {
                try (BlobReader reader = store.openRead(d, 0, 0)) {
                    while (reader.next() != null) {
                        // the reader verifies the digest before the last piece
                    }
                }
            }
            read = (double) BLOBS * BLOB / 1e6 / ((System.nanoTime() - start) / 1e9);

            start = System.nanoTime();
            for (int i = 0; i < BLOBS / 2; i++) {
                store.delete(digests.get(i));
                put(store, data, 1_000 + i);
            }
            churn = (double) BLOBS / 2 * BLOB / 1e6 / ((System.nanoTime() - start) / 1e9);
            disk = store.usage().diskBytes();
        }
        long written = writtenBytes() - ioBefore;
        double stored = (double) BLOBS * BLOB * 1.5;
        System.out.printf(
                Locale.ROOT,
                "| %s | %.0f | %.0f | %.0f | %.2f | %.1f GiB |%n",
                blobFiles ? "BlobDB blob files (chosen)" : "chunks inside SST files",
                write,
                read,
                churn,
                written / stored,
                disk / (double) (1L << 30));
    }

    private static Digest put(NamespaceStore store, byte[] data, int seed) throws StoreException {
        new Random(seed).nextBytes(data);
        Digest digest = Digest.of(data);
        BlobWriter writer = store.openWrite(digest, data.length).orElseThrow();
        for (int at = 0; at < data.length; at += MiB) {
            writer.write(at, ByteBuffer.wrap(data, at, MiB));
        }
        writer.commit();
        return digest;
    }

    /** Bytes this process caused to be written to storage. */
    private static long writtenBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("write_bytes:")) {
                return Long.parseLong(line.substring("write_bytes:".length()).trim());
            }
        }
        throw new IOException("no write_bytes in /proc/self/io");
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
