package dev.stagefarm.cacheserver.service;

import dev.stagefarm.common.auth.Caller.Scope;
import dev.stagefarm.common.auth.MethodScopes;
import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.CacheAdminGrpc;
import dev.stagefarm.proto.cache.CacheMountsGrpc;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import io.grpc.health.v1.HealthGrpc;

/** The scope each cache-server RPC needs when the server has a tokens file. */
public final class CacheScopes {

    private CacheScopes() {}

    public static MethodScopes all() {
        return MethodScopes.builder()
                .service(ContentStoreGrpc.SERVICE_NAME, Scope.READ)
                .method(ContentStoreGrpc.getWriteMethod().getFullMethodName(), Scope.WRITE)
                .method(ContentStoreGrpc.getBatchUpdateBlobsMethod().getFullMethodName(), Scope.WRITE)
                .method(ActionCacheGrpc.getGetActionResultMethod().getFullMethodName(), Scope.READ)
                .method(ActionCacheGrpc.getGetActionResultsMethod().getFullMethodName(), Scope.READ)
                .method(ActionCacheGrpc.getUpdateActionResultMethod().getFullMethodName(), Scope.WRITE)
                .service(CacheAdminGrpc.SERVICE_NAME, Scope.ADMIN)
                // Use checks WRITE itself for LOCKED uses and for publishing.
                .service(CacheMountsGrpc.SERVICE_NAME, Scope.READ)
                .method(CacheMountsGrpc.getPublishMethod().getFullMethodName(), Scope.WRITE)
                .method(CacheMountsGrpc.getDropMountsMethod().getFullMethodName(), Scope.ADMIN)
                // Reflection shows what the server offers, nothing of a team's data.
                .service("grpc.reflection.v1.ServerReflection", Scope.READ)
                // Probes (Kubernetes, load balancers) call health without a token.
                .open(HealthGrpc.SERVICE_NAME)
                .build();
    }
}
