package dev.stagefarm.cacheserver;

import dev.stagefarm.common.auth.ReloadingTokens;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each team's cache quota comes from: the cache-server's {@code --team-quota TEAM=SIZE}
 * first, then the tokens file's {@code "cache-quota"} for the team (or {@code "*"}), read again
 * when the file changes; no quota otherwise.
 */
final class TeamQuotas {

    private static final Logger log = LoggerFactory.getLogger(TeamQuotas.class);

    private TeamQuotas() {}

    /** @param tokens the server's tokens file, or null when it has none */
    static ToLongFunction<String> of(Map<String, Long> flags, ReloadingTokens tokens) {
        if (!flags.isEmpty()) {
            log.info("cache-server: team quotas from --team-quota: {}", flags);
        }
        return team -> {
            Long flagged = flags.get(team);
            if (flagged != null) {
                return flagged;
            }
            return tokens == null ? 0 : tokens.get().policy(team).cacheQuota().orElse(0);
        };
    }
}
