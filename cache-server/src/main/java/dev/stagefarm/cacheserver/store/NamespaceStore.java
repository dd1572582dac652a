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
 * stored twice. The services get one of these per call, for the caller's team.
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
        return store.contains(id(digest));
    }

    @Override
    public Set<Digest> missing(Collection<Digest> digests) throws StoreException {
        return store.missing(namespace, digests);
    }

    @Override
    public boolean[] present(List<byte[]> sha256s) throws StoreException {
        return store.present(namespace, sha256s);
    }

    @Override
    public long size(Digest digest) throws StoreException {
        return store.size(id(digest));
    }

    @Override
    public BlobReader openRead(Digest digest, long offset, long limit) throws StoreException {
        return store.openRead(id(digest), offset, limit);
    }

    @Override
    public Optional<BlobWriter> openWrite(Digest digest, long size) throws StoreException {
        return store.openWrite(id(digest), size);
    }

    @Override
    public WriteStatus queryWrite(Digest digest) throws StoreException {
        return store.queryWrite(id(digest));
    }

    @Override
    public boolean putSmall(Digest digest, byte[] data) throws StoreException {
        return store.putSmall(id(digest), data);
    }

    @Override
    public boolean delete(Digest digest) throws StoreException {
        return store.delete(id(digest));
    }

    @Override
    public Optional<byte[]> getAction(String key) throws StoreException {
        return store.getAction(namespace, key);
    }

    @Override
    public void putAction(String key, byte[] actionResult) throws StoreException {
        store.putAction(namespace, key, actionResult);
    }

    @Override
    public Usage usage() throws StoreException {
        return store.usage(namespace);
    }

    @Override
    public PruneResult prune(long keepBytes, Duration unusedFor) throws StoreException {
        return store.prune(namespace, keepBytes, unusedFor);
    }
}
