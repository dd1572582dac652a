package dev.stagefarm.cacheclient;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
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
 * buffers into a scratch array, that array into the message's ByteString); at 1 GiB that was a
 * tenth of the client's CPU. Here, when the transport lends its buffers ({@link Detachable} and
 * {@link HasByteBuffer}: Netty does), the message's {@code data} stays in them, and the
 * {@link Message} owns them until {@link Message#release()}. Other transports (in-process) get
 * the stock parse.
 */
final class ReadMessages {

    private ReadMessages() {}

    /** One ReadResponse: its data, and the transport buffers it lives in until released. */
    static final class Message {
        private final ByteString data;
        private final InputStream lent;

        private Message(ByteString data, InputStream lent) {
            this.data = data;
            this.lent = lent;
        }

        ByteString data() {
            return data;
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
            ProtoUtils.marshaller(ReadRequest.getDefaultInstance()), new Marshaller()).build();

    private static final class Marshaller implements MethodDescriptor.Marshaller<Message> {

        @Override
        public InputStream stream(Message value) {
            // Only the server sends ReadResponses; a client-side stream() is never called for them.
            return ReadResponse.newBuilder().setData(value.data()).build().toByteString().newInput();
        }

        @Override
        public Message parse(InputStream stream) {
            try {
                if (stream instanceof Detachable detachable && stream instanceof HasByteBuffer buffers
                        && stream instanceof KnownLength && buffers.byteBufferSupported()) {
                    return parseLent(detachable, stream.available());
                }
                return new Message(ReadResponse.parseFrom(stream).getData(), null);
            } catch (IOException e) {
                throw new UncheckedIOException("reading a ReadResponse from the transport", e);
            }
        }

        private static Message parseLent(Detachable detachable, int size) throws IOException {
            InputStream lent = detachable.detach();
            boolean kept = false;
            try {
                // mark() keeps the buffers already skipped over alive until the stream is closed.
                lent.mark(size);
                List<ByteString> pieces = new ArrayList<>();
                while (lent.available() > 0) {
                    ByteBuffer piece = ((HasByteBuffer) lent).getByteBuffer();
                    pieces.add(UnsafeByteOperations.unsafeWrap(piece));
                    lent.skip(piece.remaining());
                }
                ByteString whole = ByteString.copyFrom(pieces); // a rope over the pieces: no bytes copied
                Message message = new Message(dataField(whole), lent);
                kept = true;
                return message;
            } finally {
                if (!kept) {
                    lent.close();
                }
            }
        }

        /**
         * The last {@code data} field of the message (as protobuf's own parse would keep), as a
         * view. Each field is read by a decoder over the rest of the message, so no decoder ever
         * skips (and copies) the data itself.
         */
        private static ByteString dataField(ByteString message) throws IOException {
            ByteString data = ByteString.EMPTY;
            int offset = 0;
            while (offset < message.size()) {
                CodedInputStream in = message.substring(offset).newCodedInput();
                int tag = in.readTag();
                if (WireFormat.getTagFieldNumber(tag) == ReadResponse.DATA_FIELD_NUMBER
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    int length = in.readRawVarint32();
                    int start = offset + in.getTotalBytesRead();
                    data = message.substring(start, start + length);
                    offset = start + length;
                } else {
                    in.skipField(tag);
                    offset += in.getTotalBytesRead();
                }
            }
            return data;
        }
    }
}
