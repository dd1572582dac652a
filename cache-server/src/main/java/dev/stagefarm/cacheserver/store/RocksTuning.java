package dev.stagefarm.cacheserver.store;

import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;

/** How the cache's RocksDB is tuned, and why; {@link RocksDatabase} owns (and closes) what these make. */
final class RocksTuning {

    /** Block cache shared by all column families; mostly index, filter and meta blocks. */
    static final long BLOCK_CACHE_BYTES = 256L << 20;

    private RocksTuning() {}

    static DBOptions database() {
        return new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                // The machines have few cores; flushes and compactions share them with gRPC.
                .setMaxBackgroundJobs(2)
                // Write back in 1 MiB steps instead of stalling on one huge fsync later.
                .setBytesPerSync(1L << 20)
                .setWalBytesPerSync(1L << 20)
                // Chunks pass through the WAL: cap it so recovery after a crash stays short.
                .setMaxTotalWalSize(512L << 20);
    }

    /**
     * Chunks: 1 MiB values that are written once and read whole. Layers arrive compressed
     * (gzip/zstd), so compressing them again only burns CPU. Blob files keep these large values
     * out of the LSM tree, so compactions move keys and pointers instead of rewriting megabytes.
     */
    static ColumnFamilyOptions chunkValues(LRUCache blockCache, boolean blobFiles) {
        return new ColumnFamilyOptions()
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .setEnableBlobFiles(blobFiles)
                .setMinBlobSize(4096)
                .setBlobFileSize(256L << 20)
                .setBlobCompressionType(CompressionType.NO_COMPRESSION)
                // Reclaims space of deleted blobs by rewriting only the oldest, mostly dead blob files.
                .setEnableBlobGarbageCollection(true)
                .setWriteBufferSize(64L << 20)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache));
    }

    /**
     * Meta, action results, uploads: small values read by point lookup (FindMissing asks for
     * thousands at once). Bloom filters answer "absent" without touching data blocks; LZ4 is
     * cheap enough for small protobufs.
     */
    static ColumnFamilyOptions smallValues(LRUCache blockCache, BloomFilter bloom) {
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(blockCache)
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true);
        if (bloom != null) {
            table.setFilterPolicy(bloom);
        }
        ColumnFamilyOptions cf = new ColumnFamilyOptions()
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(16L << 20)
                .setTableFormatConfig(table);
        if (bloom != null) {
            // FindMissing asks mostly for absent digests: a bloom filter over the memtable answers
            // those without walking the skiplist, as the SST filters do for flushed data.
            cf.setMemtablePrefixBloomSizeRatio(0.1).setMemtableWholeKeyFiltering(true);
        }
        return cf;
    }
}
