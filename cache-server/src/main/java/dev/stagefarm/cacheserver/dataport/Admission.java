package dev.stagefarm.cacheserver.dataport;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The data port's connection slots: at most {@link DataPortLimits#maxConnections()} in all and
 * {@link DataPortLimits#maxPerAddress()} per remote address, so one caller that opens
 * connections and sends nothing cannot keep the others out.
 */
final class Admission {

    /** Why a connection was turned away; the {@code reason} tag of the rejection counter. */
    enum Refusal {
        PORT_FULL("port_full"),
        ADDRESS_FULL("address_full");

        final String reason;

        Refusal(String reason) {
            this.reason = reason;
        }
    }

    private final DataPortLimits limits;
    /** Guarded by itself; an address is present only while it holds a slot. */
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();

    private int total;

    Admission(DataPortLimits limits) {
        this.limits = limits;
    }

    /** Takes a slot for a connection from {@code address}; null when granted, else why not. */
    Refusal admit(InetAddress address) {
        synchronized (perAddress) {
            if (total >= limits.maxConnections()) {
                return Refusal.PORT_FULL;
            }
            int held = perAddress.getOrDefault(address, 0);
            if (held >= limits.maxPerAddress()) {
                return Refusal.ADDRESS_FULL;
            }
            perAddress.put(address, held + 1);
            total++;
            return null;
        }
    }

    /** Gives back a slot {@link #admit} granted. */
    void release(InetAddress address) {
        synchronized (perAddress) {
            total--;
            perAddress.computeIfPresent(address, (a, held) -> held > 1 ? held - 1 : null);
        }
    }
}
