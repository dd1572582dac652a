package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.proto.cache.OpenReadResponse;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's side of the cache-server's data port (see the server's {@code DataPort}): turns
 * an OpenRead answer into a verified stream, from the answer itself for a small blob, from the
 * data port for a large one. When the data port cannot be reached (a firewall, a Kubernetes
 * Service that does not expose it) it says so once and from then on leaves reads to gRPC.
 */
final class DataPortReads {

    static final byte[] MAGIC = "SFD1".getBytes(StandardCharsets.US_ASCII);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Idle time before a keepalive probe, and between probes; two unanswered probes drop the connection. */
    static final Duration KEEPALIVE = Duration.ofSeconds(15);
    /** What one socket read may take: a frame, one stored chunk. */
    private static final int RECEIVE_BUFFER = 1 << 20;

    private static final Logger log = LoggerFactory.getLogger(DataPortReads.class);

    private final String host;
    private final ClientSecurity security;
    private final String target;
    private SSLContext tls;
    private volatile boolean usable = true;

    DataPortReads(String host, ClientSecurity security, String target) {
        this.host = host;
        this.security = security;
        this.target = target;
    }

    /** False once the data port (or OpenRead itself) turned out to be unavailable. */
    boolean usable() {
        return usable;
    }

    /** The server predates OpenRead: every read goes over Read. */
    void serverLacksOpenRead() {
        usable = false;
    }

    /**
     * The whole blob {@code digest} as OpenRead answered it, verified; null when the answer
     * leaves the read to gRPC's Read (no data port, or one this client cannot reach).
     */
    InputStream open(Digest digest, OpenReadResponse opened) throws IOException {
        if (opened.getTicket().isEmpty()) {
            if (opened.getData().size() != opened.getSize()) {
                return null;
            }
            BlobIntegrityException.check(digest, Digest.of(opened.getData().toByteArray()), opened.getSize(), target);
            return opened.getData().newInput();
        }
        Socket socket;
        try {
            socket = connect(opened.getDataPort());
        } catch (IOException e) {
            usable = false;
            log.warn(
                    "cache-server {}: cannot reach its data port {}:{} ({}); reading over gRPC from now on, which is slower:"
                            + " open that port to this client",
                    target,
                    host,
                    opened.getDataPort(),
                    e.toString());
            return null;
        }
        try {
            byte[] request = new byte[MAGIC.length + opened.getTicket().size()];
            System.arraycopy(MAGIC, 0, request, 0, MAGIC.length);
            opened.getTicket().copyTo(request, MAGIC.length);
            Stream stream = new Stream(socket, digest, opened.getSize(), host + ":" + opened.getDataPort());
            if (!stream.sendAndAwaitAnswer(request)) {
                // The server hung up without a word: it refused this connection (too many open,
                // or too many from this address). The port works; this read goes over gRPC.
                log.debug(
                        "cache-server {}: its data port {}:{} refused a connection; reading {} over gRPC",
                        target,
                        host,
                        opened.getDataPort(),
                        digest);
                socket.close();
                return null;
            }
            return stream;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private Socket connect(int port) throws IOException {
        Socket socket;
        SSLContext context = sslContext();
        if (context == null) {
            // A channel's socket, so that Stream reads the channel (see there).
            socket = SocketChannel.open().socket();
        } else {
            SSLSocket secure = (SSLSocket) context.getSocketFactory().createSocket();
            SSLParameters parameters = secure.getSSLParameters();
            // The same check gRPC makes: the server's certificate must name the host dialled.
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            secure.setSSLParameters(parameters);
            socket = secure;
        }
        try {
            socket.connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
            socket.setTcpNoDelay(true);
            // TCP keepalive finds a vanished server, as gRPC's pings do on the gRPC port. Not
            // SO_TIMEOUT: with one the JDK reads non-blocking, a poll(2) for every empty read.
            socket.setKeepAlive(true);
            socket.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, (int) KEEPALIVE.toSeconds());
            socket.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, (int) KEEPALIVE.toSeconds());
            socket.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, 2);
            if (socket instanceof SSLSocket secure) {
                secure.startHandshake();
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private synchronized SSLContext sslContext() throws IOException {
        if (tls == null && security.tls()) {
            tls = security.sslContext();
        }
        return tls;
    }

    /**
     * The frames of one data-port read, hashed as they are read; at the end, EOF only when every
     * byte arrived and the whole hashes to the digest, {@link BlobIntegrityException} otherwise.
     *
     * <p>It reads the socket 1 MiB at a time into a direct buffer of its own. The JDK's socket
     * streams read at most 128 KiB per call through a temporary buffer; with those the kernel's
     * receive path, which sends a window update after most reads, cost 2.5 times as much CPU
     * (profiled on loopback). Plaintext reads the socket's channel; TLS, the SSLSocket's stream.
     */
    private final class Stream extends InputStream {
        private final Socket socket;
        private final ReadableByteChannel source;
        private final ByteBuffer buffer =
                ByteBuffer.allocateDirect(RECEIVE_BUFFER).flip();
        private final Digest digest;
        private final long size;
        private final String port;
        private final MessageDigest sha256 = Digest.newSha256();
        private long received;
        private int leftInFrame;
        private boolean eof;

        Stream(Socket socket, Digest digest, long size, String port) throws IOException {
            this.socket = socket;
            this.source =
                    socket.getChannel() != null ? socket.getChannel() : Channels.newChannel(socket.getInputStream());
            this.digest = digest;
            this.size = size;
            this.port = port;
        }

        /**
         * Sends the request and waits for the server's first bytes; false when the connection
         * breaks before any arrive, which is how the server refuses one.
         */
        boolean sendAndAwaitAnswer(byte[] request) {
            buffer.compact();
            try {
                OutputStream out = socket.getOutputStream();
                out.write(request);
                out.flush();
                // A blocking read: at least one byte, or the end.
                return source.read(buffer) > 0;
            } catch (IOException e) {
                return false;
            } finally {
                buffer.flip();
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (leftInFrame == 0) {
                if (eof || !nextFrame()) {
                    return -1;
                }
            }
            if (!buffer.hasRemaining()) {
                fill();
            }
            int n = Math.min(Math.min(len, leftInFrame), buffer.remaining());
            buffer.get(b, off, n);
            sha256.update(b, off, n);
            leftInFrame -= n;
            received += n;
            return n;
        }

        /** Reads what the socket has, up to the buffer's room; a stream that ends here is cut short. */
        private void fill() throws IOException {
            buffer.compact();
            int n;
            try {
                n = source.read(buffer);
            } catch (IOException e) {
                throw truncated(e);
            } finally {
                buffer.flip();
            }
            if (n < 0) {
                throw truncated(null);
            }
        }

        private int readInt() throws IOException {
            while (buffer.remaining() < Integer.BYTES) {
                fill();
            }
            return buffer.getInt();
        }

        /** Reads a frame header; false at the end of a complete, verified range. */
        private boolean nextFrame() throws IOException {
            int header = readInt();
            if (header > 0) {
                leftInFrame = header;
                return true;
            }
            eof = true;
            if (header == 0) {
                finish();
                return false;
            }
            int code = readInt();
            byte[] message = new byte[readInt()];
            for (int at = 0; at < message.length; ) {
                if (!buffer.hasRemaining()) {
                    fill();
                }
                int n = Math.min(message.length - at, buffer.remaining());
                buffer.get(message, at, n);
                at += n;
            }
            throw CacheErrors.translate(
                    Status.fromCodeValue(code)
                            .withDescription(new String(message, StandardCharsets.UTF_8))
                            .asRuntimeException(),
                    "reading " + digest,
                    digest,
                    target);
        }

        private void finish() throws IOException {
            if (received != size) {
                throw truncated(null);
            }
            BlobIntegrityException.check(digest, Digest.fromBytes(sha256.digest()), received, target);
        }

        private IOException truncated(IOException cause) {
            return new CacheException(
                    "cache-server " + target + " broke off sending " + digest + " on its data port " + port + " after "
                            + received + " of " + size + " bytes" + (cause == null ? "" : " (" + cause + ")"),
                    Status.Code.UNAVAILABLE,
                    cause);
        }

        /** In reads of up to a frame (1 MiB), as the buffer holds: InputStream's default is 16 KiB. */
        @Override
        public long transferTo(OutputStream out) throws IOException {
            byte[] chunk = new byte[RECEIVE_BUFFER];
            long total = 0;
            for (int n; (n = read(chunk, 0, chunk.length)) >= 0; ) {
                out.write(chunk, 0, n);
                total += n;
            }
            return total;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
