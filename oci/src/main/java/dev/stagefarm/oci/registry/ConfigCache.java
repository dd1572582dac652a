package dev.stagefarm.oci.registry;

import dev.stagefarm.common.Digest;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Image configs already read, by endpoint, repository and digest. A tag moves, so its manifest is
 * asked for every time; the config it names is content-addressed and verified, so once read it is
 * what any later read of that digest from that repository returns: a build whose base did not
 * change then costs one request (the manifest), not two. Keyed by repository and endpoint, never
 * by digest alone, so that a manifest naming a digest does not get another repository's bytes.
 * The least recently used entries go first; configs over {@link #MAX_ENTRY_BYTES} are not kept.
 */
final class ConfigCache {

    /** Configs are tens of KiB; one with a huge history is read again rather than kept. */
    static final int MAX_ENTRY_BYTES = 256 * 1024;

    private record Key(URI endpoint, String repository, Digest digest) {}

    private final Map<Key, byte[]> entries;

    /** @param capacity how many configs to keep */
    ConfigCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a config cache holds at least one entry: " + capacity);
        }
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
                return size() > capacity;
            }
        };
    }

    /** A copy of the kept bytes: callers get the array to keep. */
    synchronized Optional<byte[]> get(URI endpoint, String repository, Digest digest) {
        return Optional.ofNullable(entries.get(new Key(endpoint, repository, digest)))
                .map(byte[]::clone);
    }

    /** Keeps {@code bytes}, which were verified against {@code digest}. */
    synchronized void put(URI endpoint, String repository, Digest digest, byte[] bytes) {
        if (bytes.length <= MAX_ENTRY_BYTES) {
            entries.put(new Key(endpoint, repository, digest), bytes.clone());
        }
    }
}
