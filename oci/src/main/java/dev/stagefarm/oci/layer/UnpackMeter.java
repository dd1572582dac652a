package dev.stagefarm.oci.layer;

import java.io.IOException;

/**
 * What unpacking one layer costs, told as the bytes go by (never from a header's claim), so that
 * a worker can stop a hostile layer part way: each call may refuse by throwing.
 */
public interface UnpackMeter {

    /** Counts nothing, refuses nothing: for layers the farm made itself. */
    UnpackMeter NONE = new UnpackMeter() {
        @Override
        public void compressed(long bytes) {}

        @Override
        public void expanded(long bytes) {}

        @Override
        public void written(long bytes) {}

        @Override
        public void entry() {}
    };

    /** Bytes of the layer as stored (compressed). */
    void compressed(long bytes) throws IOException;

    /** Bytes of the tar stream the decompressor made of them, headers included. */
    void expanded(long bytes) throws IOException;

    /** Bytes of file content written (a sparse entry writes more than its tar stream holds). */
    void written(long bytes) throws IOException;

    /** One more tar entry. */
    void entry() throws IOException;
}
