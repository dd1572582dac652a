package dev.stagefarm.common.auth;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which scope each RPC of a server needs. A method is looked up by its full name, then by its
 * service ({@code service/*}); a method found in neither is refused, so an RPC added without a
 * scope fails closed. Open services (gRPC health, which probes call without a token) skip
 * authentication entirely.
 */
public final class MethodScopes {

    private final Map<String, Caller.Scope> scopes;
    private final Set<String> open;

    private MethodScopes(Map<String, Caller.Scope> scopes, Set<String> open) {
        this.scopes = Map.copyOf(scopes);
        this.open = Set.copyOf(open);
    }

    public static Builder builder() {
        return new Builder();
    }

    boolean isOpen(String service) {
        return open.contains(service);
    }

    Optional<Caller.Scope> required(String service, String fullMethod) {
        Caller.Scope scope = scopes.get(fullMethod);
        return Optional.ofNullable(scope != null ? scope : scopes.get(service + "/*"));
    }

    public static final class Builder {
        private final Map<String, Caller.Scope> scopes = new HashMap<>();
        private final Set<String> open = new HashSet<>();

        /** Every method of {@code service} needs {@code scope}, unless a method says otherwise. */
        public Builder service(String service, Caller.Scope scope) {
            scopes.put(service + "/*", scope);
            return this;
        }

        /** {@code service/Method} needs {@code scope}. */
        public Builder method(String fullMethod, Caller.Scope scope) {
            scopes.put(fullMethod, scope);
            return this;
        }

        /** A service anyone may call, without a token (health checks). */
        public Builder open(String service) {
            open.add(service);
            return this;
        }

        public MethodScopes build() {
            return new MethodScopes(scopes, open);
        }
    }
}
