package dev.stagefarm.oci;

import java.time.Instant;

/** One line of {@code docker history}: {@code emptyLayer} steps (ENV, CMD…) add no diff_id. Fields may be null. */
public record HistoryEntry(Instant created, String createdBy, String author, String comment, boolean emptyLayer) {

    public static HistoryEntry of(Instant created, String createdBy, boolean emptyLayer) {
        return new HistoryEntry(created, createdBy, null, null, emptyLayer);
    }
}
