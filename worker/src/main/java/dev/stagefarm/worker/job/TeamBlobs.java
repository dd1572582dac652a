package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.TeamChannel;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which team may use this worker's copy of a blob (a layer, an artifact, a context and its
 * files), all kept once per digest: a team that made or fetched it here, or whose own cache holds
 * it, for then the team could read the same bytes anyway. Without this check a job naming a
 * digest it learned somewhere (a forged image manifest, a context manifest) would read another
 * team's files from this worker's disk. The team is the running job's ({@link TeamChannel#current}).
 */
final class TeamBlobs {

    /** Remembered (team, digest) pairs before the memory is dropped and checks start again. */
    private static final int MAX_REMEMBERED = 200_000;

    private final CacheClient cache;
    private final Set<String> allowed = ConcurrentHashMap.newKeySet();

    /** @param cache the cache-server, asked in the job's team's namespace */
    TeamBlobs(CacheClient cache) {
        this.cache = cache;
    }

    /** Of these digests, held on this worker, the ones the running job's team may use here. */
    Set<Digest> usable(Collection<Digest> digests) throws IOException {
        String team = TeamChannel.current();
        Set<Digest> usable = new LinkedHashSet<>(digests);
        if (team.isEmpty()) {
            return usable; // a farm without teams is one namespace
        }
        List<Digest> unknown =
                digests.stream().filter(d -> !allowed.contains(key(team, d))).toList();
        if (!unknown.isEmpty()) {
            Set<Digest> missing = cache.findMissing(unknown);
            for (Digest d : unknown) {
                if (missing.contains(d)) {
                    usable.remove(d);
                } else {
                    remember(team, d);
                }
            }
        }
        return usable;
    }

    boolean usable(Digest digest) throws IOException {
        return usable(List.of(digest)).contains(digest);
    }

    /** The running job's team made this blob here or fetched it from its own cache or registry. */
    void allow(Digest digest) {
        String team = TeamChannel.current();
        if (!team.isEmpty()) {
            remember(team, digest);
        }
    }

    /**
     * Whether the running job's team was found to hold everything {@code name} (an entry made
     * of several blobs, e.g. a laid-out context) stands for; {@link #learn} records it.
     */
    boolean knows(String name) {
        String team = TeamChannel.current();
        return team.isEmpty() || allowed.contains(team + "\0" + name);
    }

    void learn(String name) {
        String team = TeamChannel.current();
        if (!team.isEmpty()) {
            remember(team + "\0" + name);
        }
    }

    private void remember(String team, Digest digest) {
        remember(key(team, digest));
    }

    private void remember(String key) {
        if (allowed.size() >= MAX_REMEMBERED) {
            allowed.clear(); // cheap to learn again: one FindMissing per blob and team
        }
        allowed.add(key);
    }

    private static String key(String team, Digest digest) {
        return team + "\0" + digest;
    }
}
