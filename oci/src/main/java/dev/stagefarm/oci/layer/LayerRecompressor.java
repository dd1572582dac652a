package dev.stagefarm.oci.layer;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Turns a layer blob from one codec into another without touching the tar inside, so its diffID
 * stays the same: layers travel in the farm as zstd and become gzip only for images that leave it.
 */
public final class LayerRecompressor {

    private final LayerWriter.Options options;

    public LayerRecompressor(LayerWriter.Options options) {
        this.options = options;
    }

    public LayerBlob recompress(Path in, Path out) throws IOException {
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".layer", ".partial");
        try {
            HashingOutputStream compressed;
            HashingOutputStream tarBytes;
            try (InputStream tar = decompress(in);
                    OutputStream file = Files.newOutputStream(tmp)) {
                compressed = new HashingOutputStream(file);
                OutputStream codec = options.compression() == LayerWriter.Compression.ZSTD
                        ? LayerWriter.zstd(compressed, options.zstdLevel())
                        : new LayerWriter.LeveledGzip(compressed, options.gzipLevel());
                tarBytes = new HashingOutputStream(codec);
                tar.transferTo(tarBytes);
                if (codec instanceof GZIPOutputStream gzip) {
                    gzip.finish();
                } else {
                    codec.close();
                }
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new LayerBlob(out, compressed.digest(), tarBytes.digest(), compressed.count(), false);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The tar inside a blob, whatever its codec (told by magic bytes). */
    static InputStream decompress(Path blob) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(blob), 1 << 16);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (magic.length == 4
                && (magic[0] & 0xff) == 0x28
                && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return new ZstdInputStream(in);
        }
        return in;
    }
}
