package dev.stagefarm.cacheclient;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * ContentStore.Read with a response marshaller that does not copy the blob's bytes. The stock
 * protobuf marshaller copies every message twice before the caller sees a byte (the transport's
 * buffers into a scratch array, that array into the message's ByteString); so would wrapping
 * the transport's direct buffers in a ByteString (protobuf 4 copies a direct buffer it wraps).
 * Here, when the transport lends its buffers ({@link Detachable} and {@link HasByteBuffer}:
 * Netty does), the message's {@code data} stays in them as a list of views, and the
 * {@link Message} owns them until {@link Message#release()}. Other transports (in-process),
 * and a message laid out other than as one {@code data} field, get the stock parse.
 */
final class ReadMessages {

    private ReadMessages() {}

    /** One ReadResponse: its data, and the transport buffers it lives in until released. */
    static final class Message {
        private final List<ByteBuffer> data;
        private final long size;
        private final InputStream lent;

        private Message(List<ByteBuffer> data, InputStream lent) {
            this.data = data;
            this.size = data.stream().mapToLong(ByteBuffer::remaining).sum();
            this.lent = lent;
        }

        /** The data, in pieces; read-only views that stay valid until {@link #release()}. */
        List<ByteBuffer> data() {
            return data;
        }

        long size() {
            return size;
        }

        /** Returns the transport's buffers; the data must not be read afterwards. */
        void release() {
            if (lent != null) {
                try {
                    lent.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    static final MethodDescriptor<ReadRequest, Message> METHOD = ContentStoreGrpc.getReadMethod().toBuilder(
                    ProtoUtils.marshaller(ReadRequest.getDefaultInstance()), new Marshaller())
            .build();

    /** Enough bytes for any tag and length prefix of the data field (1 + 5 bytes). */
    private static final int HEADER_BYTES = 16;

    private static final class Marshaller implements MethodDescriptor.Marshaller<Message> {

        @Override
        public InputStream stream(Message value) {
            // Only the server sends ReadResponses; a client never serializes one.
            throw new UnsupportedOperationException("the client does not send ReadResponses");
        }

        @Override
        public Message parse(InputStream stream) {
            try {
                if (stream instanceof Detachable detachable
                        && stream instanceof HasByteBuffer buffers
                        && stream instanceof KnownLength
                        && buffers.byteBufferSupported()) {
                    return parseLent(detachable, stream.available());
                }
                return copied(ReadResponse.parseFrom(stream));
            } catch (IOException e) {
                throw new UncheckedIOException("reading a ReadResponse from the transport", e);
            }
        }

        private static Message copied(ReadResponse response) {
            return new Message(response.getData().asReadOnlyByteBufferList(), null);
        }

        private static Message parseLent(Detachable detachable, int size) throws IOException {
            InputStream lent = detachable.detach();
            boolean kept = false;
            try {
                // mark() keeps the buffers already skipped over alive until the stream is closed.
                lent.mark(size);
                List<ByteBuffer> pieces = new ArrayList<>();
                while (lent.available() > 0) {
                    ByteBuffer piece = ((HasByteBuffer) lent).getByteBuffer().asReadOnlyBuffer();
                    pieces.add(piece);
                    lent.skip(piece.remaining());
                }
                List<ByteBuffer> data = dataField(pieces, size);
                if (data == null) {
                    lent.reset();
                    return copied(ReadResponse.parseFrom(lent));
                }
                kept = true;
                return new Message(data, lent);
            } finally {
                if (!kept) {
                    lent.close();
                }
            }
        }

        /**
         * The data when the message is exactly one {@code data} field, as views of {@code
         * pieces}; null for any other layout (left to protobuf's own parse).
         */
        private static List<ByteBuffer> dataField(List<ByteBuffer> pieces, int size) throws IOException {
            if (size == 0) {
                return List.of();
            }
            byte[] header = new byte[Math.min(HEADER_BYTES, size)];
            int filled = 0;
            for (int i = 0; filled < header.length; i++) {
                ByteBuffer piece = pieces.get(i);
                int n = Math.min(header.length - filled, piece.remaining());
                piece.get(piece.position(), header, filled, n);
                filled += n;
            }
            CodedInputStream in = CodedInputStream.newInstance(header);
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) != ReadResponse.DATA_FIELD_NUMBER
                    || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                return null;
            }
            int length = in.readRawVarint32();
            int start = in.getTotalBytesRead();
            if ((long) start + length != size) {
                return null;
            }
            List<ByteBuffer> data = new ArrayList<>(pieces.size());
            int skip = start;
            for (ByteBuffer piece : pieces) {
                if (skip >= piece.remaining()) {
                    skip -= piece.remaining();
                    continue;
                }
                data.add(piece.slice(piece.position() + skip, piece.remaining() - skip));
                skip = 0;
            }
            return data;
        }
    }
}
