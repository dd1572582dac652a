package dev.stagefarm.cacheserver.store;

import java.util.Optional;

/** Cache key → serialized ActionResult. The store does not interpret the bytes. */
public interface ActionCacheStore {

    Optional<byte[]> getAction(String key) throws StoreException;

    void putAction(String key, byte[] actionResult) throws StoreException;
}
