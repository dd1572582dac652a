package dev.stagefarm.cacheclient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** Bytes to upload, readable at any offset so an interrupted upload can resume mid-blob. */
interface UploadContent {

    long size();

    /** Fills {@code into} completely with the bytes at {@code position}. */
    void read(long position, byte[] into) throws IOException;

    static UploadContent of(byte[] data) {
        return new UploadContent() {
            @Override
            public long size() {
                return data.length;
            }

            @Override
            public void read(long position, byte[] into) {
                System.arraycopy(data, (int) position, into, 0, into.length);
            }
        };
    }

    static UploadContent of(FileChannel file, long size, Path path) {
        return new UploadContent() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public void read(long position, byte[] into) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(into);
                while (buf.hasRemaining()) {
                    if (file.read(buf, position + buf.position()) < 0) {
                        throw new IOException(path + " is shorter than the " + size
                                + " bytes being uploaded; did it change during the upload?");
                    }
                }
            }
        };
    }
}
