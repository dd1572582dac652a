package dev.stagefarm.cacheserver.store;

/**
 * The stored digests, in memory, as their first 8 bytes: an answer of "no" is certain and
 * costs a hash-table probe, "maybe" is confirmed in RocksDB. FindMissing is asked mostly about
 * blobs the cache lacks (a build's new files), and answering those without RocksDB is what keeps
 * 100,000 digests under 200 ms. About 16 bytes per stored blob (a table of longs at most half
 * full). Two stored digests sharing 8 leading bytes — not expected below 2^32 blobs — only
 * cost a redundant upload when one of them is deleted: the filter never claims a blob is there.
 */
public final class DigestFilter {

    private static final int STRIPES = 64;

    private final Stripe[] stripes = new Stripe[STRIPES];

    DigestFilter() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    void add(byte[] sha256) {
        add(0, sha256);
    }

    void remove(byte[] sha256) {
        remove(0, sha256);
    }

    boolean mayContain(byte[] sha256) {
        return mayContain(0, sha256);
    }

    /**
     * With a namespace's salt mixed in, so that the same digest in two namespaces is two entries
     * and one team deleting its copy leaves the other's "maybe" in place.
     */
    void add(long salt, byte[] sha256) {
        long key = key(salt, sha256);
        stripe(key).add(key);
    }

    void remove(long salt, byte[] sha256) {
        long key = key(salt, sha256);
        stripe(key).remove(key);
    }

    boolean mayContain(long salt, byte[] sha256) {
        long key = key(salt, sha256);
        return stripe(key).contains(key);
    }

    private Stripe stripe(long key) {
        return stripes[(int) (key >>> 58)];
    }

    /** The first 8 bytes, never 0 (0 marks an empty slot). */
    private static long key(long salt, byte[] sha256) {
        long k = 0;
        for (int i = 0; i < 8; i++) {
            k = k << 8 | (sha256[i] & 0xff);
        }
        k ^= salt;
        return k == 0 ? 1 : k;
    }

    /** An open-addressing set of longs with linear probing and backward-shift deletion. */
    private static final class Stripe {
        private long[] table = new long[64];
        private int size;

        synchronized boolean contains(long key) {
            int mask = table.length - 1;
            for (int i = slot(key) & mask; table[i] != 0; i = (i + 1) & mask) {
                if (table[i] == key) {
                    return true;
                }
            }
            return false;
        }

        synchronized void add(long key) {
            if (2 * (size + 1) > table.length) {
                grow();
            }
            if (insert(table, key)) {
                size++;
            }
        }

        synchronized void remove(long key) {
            int mask = table.length - 1;
            int i = slot(key) & mask;
            while (table[i] != key) {
                if (table[i] == 0) {
                    return;
                }
                i = (i + 1) & mask;
            }
            // Move later entries of the probe run back so no lookup stops early at the hole.
            for (int j = (i + 1) & mask; table[j] != 0; j = (j + 1) & mask) {
                int home = slot(table[j]) & mask;
                boolean between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
                if (!between) {
                    table[i] = table[j];
                    i = j;
                }
            }
            table[i] = 0;
            size--;
        }

        private void grow() {
            long[] bigger = new long[table.length * 2];
            for (long k : table) {
                if (k != 0) {
                    insert(bigger, k);
                }
            }
            table = bigger;
        }

        private static boolean insert(long[] table, long key) {
            int mask = table.length - 1;
            int i = slot(key) & mask;
            while (table[i] != 0) {
                if (table[i] == key) {
                    return false;
                }
                i = (i + 1) & mask;
            }
            table[i] = key;
            return true;
        }

        private static int slot(long key) {
            // The key is already uniformly random (a sha256 prefix); fold it to spread the low bits.
            return (int) (key ^ (key >>> 32));
        }
    }
}
