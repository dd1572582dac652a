package dev.stagefarm.cacheserver.mounts;

import dev.stagefarm.cacheserver.store.MountKey;
import dev.stagefarm.proto.cache.MountSharing;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Which steps use which cache mount right now, farm-wide (this server is the one place every
 * worker asks). In memory only: a use lives exactly as long as its {@code Use} stream, so a
 * restarted server has none, and the workers' streams broke with it anyway.
 *
 * <p>LOCKED uses of one mount take a lease one at a time, in arrival order. SHARED uses never
 * wait (also not for a LOCKED holder, as in BuildKit, where the lock only orders LOCKED steps).
 * A PRIVATE use publishes like a SHARED one if nobody else uses the mount when it arrives, and
 * otherwise gets a copy: it may not publish, and it does not make the mount busy for others.
 */
public final class MountUses {

    /** Told, outside this class's lock, when a use queues and when it is granted. */
    interface Listener {
        void waiting(int ahead);

        void granted(Use use);
    }

    /** One step's use of one mount. */
    static final class Use {
        final MountKey key;
        final String id = UUID.randomUUID().toString();
        final MountSharing sharing;
        final Listener listener;
        final long openedNanos = System.nanoTime();
        /** Set when granted; never changes afterwards. */
        volatile boolean publishes;

        private final boolean mayWrite;
        private boolean ended;

        private Use(MountKey key, MountSharing sharing, boolean mayWrite, Listener listener) {
            this.key = key;
            this.sharing = sharing;
            this.mayWrite = mayWrite;
            this.listener = listener;
        }
    }

    private static final class Slot {
        Use holder;
        final ArrayDeque<Use> queue = new ArrayDeque<>();
        /** Granted uses that make the mount busy (all but PRIVATE copies). */
        final Set<Use> busy = new HashSet<>();
        /** Granted uses, PRIVATE copies too, by id. */
        final Map<String, Use> granted = new HashMap<>();

        boolean idle() {
            return holder == null && queue.isEmpty() && granted.isEmpty();
        }
    }

    private final Map<MountKey, Slot> slots = new HashMap<>();

    /** Starts a use; its listener hears {@code waiting} and/or {@code granted} before or after this returns. */
    Use open(MountKey key, MountSharing sharing, boolean mayWrite, Listener listener) {
        Use use = new Use(key, sharing, mayWrite, listener);
        int ahead = -1;
        boolean grant = false;
        synchronized (this) {
            Slot slot = slots.computeIfAbsent(key, k -> new Slot());
            switch (sharing) {
                case MOUNT_SHARING_LOCKED -> {
                    if (slot.holder == null && slot.queue.isEmpty()) {
                        slot.holder = use;
                        grantLocked(slot, use, true);
                        grant = true;
                    } else {
                        slot.queue.add(use);
                        ahead = slot.queue.size() - 1 + (slot.holder == null ? 0 : 1);
                    }
                }
                case MOUNT_SHARING_PRIVATE -> {
                    grantLocked(slot, use, slot.busy.isEmpty() && slot.holder == null);
                    grant = true;
                }
                default -> {
                    grantLocked(slot, use, true);
                    grant = true;
                }
            }
        }
        if (grant) {
            listener.granted(use);
        } else {
            listener.waiting(ahead);
        }
        return use;
    }

    /** Ends a use (idempotent): a LOCKED holder's lease passes to the next in line. */
    void end(Use use) {
        Use next = null;
        synchronized (this) {
            if (use.ended) {
                return;
            }
            use.ended = true;
            Slot slot = slots.get(use.key);
            if (slot == null) {
                return;
            }
            slot.queue.remove(use);
            slot.busy.remove(use);
            slot.granted.remove(use.id);
            if (slot.holder == use) {
                slot.holder = slot.queue.poll();
                if (slot.holder != null) {
                    next = slot.holder;
                    grantLocked(slot, next, true);
                }
            }
            if (slot.idle()) {
                slots.remove(use.key);
            }
        }
        if (next != null) {
            next.listener.granted(next);
        }
    }

    /** The open use {@code useId} of {@code key} that may publish, or why there is none. */
    synchronized void checkPublishing(MountKey key, String useId) throws MountException {
        Slot slot = slots.get(key);
        Use use = slot == null ? null : slot.granted.get(useId);
        if (use == null) {
            throw new MountException(
                    MountException.Reason.USE_ENDED,
                    "use " + useId + " of cache mount " + key
                            + " is not open (its stream ended or its connection was lost, and a LOCKED lease may have"
                            + " passed on): its changes are dropped");
        }
        if (!use.publishes) {
            throw new MountException(
                    MountException.Reason.NOT_PUBLISHING,
                    "use " + useId + " of cache mount " + key
                            + " works on a copy (PRIVATE while the mount was busy, or a token without write): it cannot publish");
        }
    }

    /** Uses granted and not ended, for a gauge. */
    synchronized int granted() {
        int n = 0;
        for (Slot slot : slots.values()) {
            n += slot.busy.size();
        }
        return n;
    }

    /** LOCKED uses waiting for a lease, for a gauge. */
    synchronized int waiting() {
        int n = 0;
        for (Slot slot : slots.values()) {
            n += slot.queue.size();
        }
        return n;
    }

    private static void grantLocked(Slot slot, Use use, boolean ownsMount) {
        use.publishes = ownsMount && use.mayWrite;
        if (ownsMount) {
            slot.busy.add(use);
        }
        slot.granted.put(use.id, use);
    }
}
