package dev.stagefarm.cacheserver;

import dev.stagefarm.common.auth.Caller;

/**
 * Hands each call the store of its caller's team ({@link Caller#current()}, which the
 * authenticating interceptor set). The services never hold a store across calls, so no
 * code path can reach a namespace other than the caller's.
 */
@FunctionalInterface
interface CallerStores {

    NamespaceStore current();

    static CallerStores of(RocksStore store) {
        return () -> store.in(new Namespace(Caller.current().team()));
    }
}
