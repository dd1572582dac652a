package dev.stagefarm.common.version;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What a component announces when it connects: its release ({@code 0.2.0}, for humans) and the
 * wire protocol it speaks, an integer bumped only on a change that an older peer cannot follow
 * (a field's meaning changed, a message the other side must understand). Two components work
 * together when their protocols are equal, whatever their releases: so a rolling upgrade mixes
 * releases freely until the protocol changes, and then says so in one sentence.
 */
public record FarmVersion(String release, int protocol) {

    /**
     * The protocol this build speaks. 1: the first with the handshake; a peer that announces
     * nothing (0) predates it and speaks 1.
     */
    public static final int PROTOCOL = 1;

    /** This build's own version. */
    public static final FarmVersion CURRENT = new FarmVersion(readRelease(), PROTOCOL);

    /** What a peer announced; an empty release or protocol 0 is a peer from before the handshake. */
    public static FarmVersion announced(String release, int protocol) {
        return new FarmVersion(
                release == null || release.isEmpty() ? "before 0.1.0" : release, protocol == 0 ? 1 : protocol);
    }

    public boolean compatibleWith(FarmVersion other) {
        return protocol == other.protocol;
    }

    /**
     * The one sentence a refused peer sees: both versions and what to do.
     *
     * @param who the peer, e.g. "worker w1" or "this client"
     * @param server the refusing component, e.g. "coordinator"
     */
    public static String refusal(String who, FarmVersion peer, String server, FarmVersion ours) {
        String upgrade = peer.protocol < ours.protocol ? who : "the " + server;
        return who + " runs stagefarm " + peer.release + " (protocol " + peer.protocol + ") but the " + server
                + " runs " + ours.release + " (protocol " + ours.protocol + "): they cannot work together;"
                + " upgrade " + upgrade + " to a release with protocol " + Math.max(peer.protocol, ours.protocol)
                + " (releases with equal protocols mix freely during a rolling upgrade)";
    }

    @Override
    public String toString() {
        return release + " (protocol " + protocol + ")";
    }

    private static String readRelease() {
        try (InputStream in = FarmVersion.class.getResourceAsStream("release.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String release = p.getProperty("release", "unknown");
            // an unfiltered resource (an IDE build) says so rather than showing a placeholder
            return release.startsWith("${") ? "unknown" : release;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
