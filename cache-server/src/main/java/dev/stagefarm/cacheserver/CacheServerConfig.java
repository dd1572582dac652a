package dev.stagefarm.cacheserver;

import dev.stagefarm.common.server.HostPort;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a cache-server needs to run.
 *
 * @param listen   where clients reach it (what a Netty builder binds; for logs with other builders)
 * @param dataDir  the RocksDB directory, created when missing
 * @param maxBytes the --max-size budget for stored blob bytes, least recently used evicted
 *                 beyond it; 0 = unlimited
 */
public record CacheServerConfig(HostPort listen, Path dataDir, long maxBytes) {

    public CacheServerConfig {
        Objects.requireNonNull(listen, "listen address");
        Objects.requireNonNull(dataDir, "data directory");
        if (maxBytes < 0) {
            throw new IllegalArgumentException("--max-size must not be negative, got " + maxBytes);
        }
    }

    /** No size limit. */
    public CacheServerConfig(HostPort listen, Path dataDir) {
        this(listen, dataDir, 0);
    }
}
