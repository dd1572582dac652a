package dev.stagefarm.cacheserver;

import dev.stagefarm.common.net.HostPort;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a cache-server needs to run.
 *
 * @param listen   where clients reach it (what a Netty builder binds; for logs with other builders)
 * @param dataDir  the RocksDB directory, created when missing
 * @param maxBytes the --max-size budget for stored blob bytes, least recently used evicted
 *                 beyond it; 0 = unlimited
 * @param tokensFile the --tokens file (re-read when it changes), or null: every caller is
 *                   accepted, with every scope, in the default namespace
 */
public record CacheServerConfig(HostPort listen, Path dataDir, long maxBytes, Path tokensFile) {

    public CacheServerConfig {
        Objects.requireNonNull(listen, "listen address");
        Objects.requireNonNull(dataDir, "data directory");
        if (maxBytes < 0) {
            throw new IllegalArgumentException("--max-size must not be negative, got " + maxBytes);
        }
    }

    /** Without tokens: open to every caller. */
    public CacheServerConfig(HostPort listen, Path dataDir, long maxBytes) {
        this(listen, dataDir, maxBytes, null);
    }

    /** No size limit. */
    public CacheServerConfig(HostPort listen, Path dataDir) {
        this(listen, dataDir, 0);
    }
}
