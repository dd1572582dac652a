package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The store as one team sees it. Every call works on the team's own rows, so a team can
 * neither read another's blobs or action results nor learn from {@link #missing} or
 * {@link #present} that another team holds a blob: the same bytes uploaded by two teams are
 * stored twice. The services get one of these per call, for the caller's team; it is the only
 * {@link BlobStore}, and {@link RocksStore#in}{@code (Namespace.DEFAULT)} is a server's without tokens.
 */
public final class NamespaceStore implements BlobStore, ActionCacheStore, StoreAdmin {

    private final RocksStore store;
    private final Namespace namespace;

    NamespaceStore(RocksStore store, Namespace namespace) {
        this.store = store;
        this.namespace = namespace;
    }

    public Namespace namespace() {
        return namespace;
    }

    private BlobId id(Digest digest) {
        return new BlobId(namespace, digest);
    }

    @Override
    public boolean contains(Digest digest) throws StoreException {
        return store.rows.contains(id(digest));
    }

    @Override
    public Set<Digest> missing(Collection<Digest> digests) throws StoreException {
        return store.rows.missing(namespace, digests);
    }

    @Override
    public boolean[] present(List<byte[]> sha256s) throws StoreException {
        return store.rows.present(namespace, sha256s);
    }

    @Override
    public long size(Digest digest) throws StoreException {
        return store.rows.size(id(digest));
    }

    @Override
    public BlobReader openRead(Digest digest, long offset, long limit) throws StoreException {
        return store.reads.open(id(digest), offset, limit);
    }

    @Override
    public Optional<BlobWriter> openWrite(Digest digest, long size) throws StoreException {
        return store.uploads.openWrite(id(digest), size);
    }

    @Override
    public WriteStatus queryWrite(Digest digest) throws StoreException {
        return store.uploads.queryWrite(id(digest));
    }

    @Override
    public boolean putSmall(Digest digest, byte[] data) throws StoreException {
        return store.uploads.putSmall(id(digest), data);
    }

    @Override
    public boolean delete(Digest digest) throws StoreException {
        return store.rows.delete(id(digest), -1) >= 0;
    }

    @Override
    public Optional<byte[]> getAction(String key) throws StoreException {
        return store.actions.get(namespace, key);
    }

    @Override
    public void putAction(String key, byte[] actionResult) throws StoreException {
        store.actions.put(namespace, key, actionResult);
    }

    @Override
    public Usage usage() throws StoreException {
        return store.stats.usage(namespace);
    }

    @Override
    public PruneResult prune(long keepBytes, Duration unusedFor) throws StoreException {
        return store.eviction.prune(namespace, keepBytes, unusedFor);
    }
}
