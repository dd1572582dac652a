package dev.stagefarm.cacheserver.service;

import dev.stagefarm.cacheserver.store.Namespace;
import dev.stagefarm.cacheserver.store.NamespaceStore;
import dev.stagefarm.cacheserver.store.RocksStore;
import dev.stagefarm.common.auth.Caller;

/**
 * Hands each call the store of its caller's team ({@link Caller#current()}, which the
 * authenticating interceptor set). The services never hold a store across calls, so no
 * code path can reach a namespace other than the caller's.
 */
@FunctionalInterface
public interface CallerStores {

    NamespaceStore current();

    static CallerStores of(RocksStore store) {
        return () -> store.in(new Namespace(Caller.current().team()));
    }
}
