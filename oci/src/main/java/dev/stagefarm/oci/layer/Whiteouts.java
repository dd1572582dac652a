package dev.stagefarm.oci.layer;

/** The OCI layer spec's whiteout names (image-spec layer.md). */
final class Whiteouts {

    static final String PREFIX = ".wh.";
    static final String OPAQUE = ".wh..wh..opq";

    private Whiteouts() {}
}
