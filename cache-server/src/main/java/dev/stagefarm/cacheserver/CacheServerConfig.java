package dev.stagefarm.cacheserver;

import dev.stagefarm.common.server.HostPort;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a cache-server needs to run.
 *
 * @param listen  where clients reach it (what a Netty builder binds; for logs with other builders)
 * @param dataDir the RocksDB directory, created when missing
 */
public record CacheServerConfig(HostPort listen, Path dataDir) {

    public CacheServerConfig {
        Objects.requireNonNull(listen, "listen address");
        Objects.requireNonNull(dataDir, "data directory");
    }
}
