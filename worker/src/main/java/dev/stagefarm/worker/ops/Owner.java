package dev.stagefarm.worker.ops;

/** A numeric owner for files a step writes. */
public record Owner(int uid, int gid) {

    public static final Owner ROOT = new Owner(0, 0);
}
