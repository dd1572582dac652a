package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.server.ClientSecurity;
import dev.stagefarm.proto.cache.OpenReadResponse;
import io.grpc.Status;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
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
    /** A server that sends nothing for this long is given up on. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    private static final int TRANSFER_BUFFER = 256 << 10;

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
            Digest actual = Digest.of(opened.getData().toByteArray());
            if (!actual.equals(digest)) {
                throw new BlobIntegrityException("the " + opened.getSize() + " bytes received from " + target + " as "
                        + digest + " hash to " + actual + "; discard them and retry", null);
            }
            return opened.getData().newInput();
        }
        Socket socket;
        try {
            socket = connect(opened.getDataPort());
        } catch (IOException e) {
            usable = false;
            log.warn("cache-server {}: cannot reach its data port {}:{} ({}); reading over gRPC from now on, which is slower:"
                    + " open that port to this client", target, host, opened.getDataPort(), e.toString());
            return null;
        }
        try {
            OutputStream out = socket.getOutputStream();
            byte[] request = new byte[MAGIC.length + opened.getTicket().size()];
            System.arraycopy(MAGIC, 0, request, 0, MAGIC.length);
            opened.getTicket().copyTo(request, MAGIC.length);
            out.write(request);
            out.flush();
            return new Stream(socket, digest, opened.getSize(), host + ":" + opened.getDataPort());
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private Socket connect(int port) throws IOException {
        Socket socket;
        SSLContext context = sslContext();
        if (context == null) {
            socket = new Socket();
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
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
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
     */
    private final class Stream extends InputStream {
        private final Socket socket;
        private final DataInputStream in;
        private final Digest digest;
        private final long size;
        private final String port;
        private final MessageDigest sha256 = Digest.newSha256();
        private long received;
        private int leftInFrame;
        private boolean eof;

        Stream(Socket socket, Digest digest, long size, String port) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.digest = digest;
            this.size = size;
            this.port = port;
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
            int n;
            try {
                n = in.read(b, off, Math.min(len, leftInFrame));
            } catch (SocketTimeoutException e) {
                throw new CacheException("cache-server " + target + " sent nothing for " + READ_TIMEOUT.toSeconds()
                        + " s while sending " + digest + " from its data port " + port, Status.Code.DEADLINE_EXCEEDED, e);
            }
            if (n < 0) {
                throw truncated(null);
            }
            sha256.update(b, off, n);
            leftInFrame -= n;
            received += n;
            return n;
        }

        /** In 256 KiB reads: each read is a system call, which 16 KiB (InputStream's default) would repeat 64,000 times a GiB. */
        @Override
        public long transferTo(OutputStream out) throws IOException {
            byte[] buffer = new byte[TRANSFER_BUFFER];
            long total = 0;
            for (int n; (n = read(buffer, 0, buffer.length)) >= 0; ) {
                out.write(buffer, 0, n);
                total += n;
            }
            return total;
        }

        /** Reads a frame header; false at the end of a complete, verified range. */
        private boolean nextFrame() throws IOException {
            int header;
            try {
                header = in.readInt();
            } catch (EOFException e) {
                throw truncated(e);
            }
            if (header > 0) {
                leftInFrame = header;
                return true;
            }
            eof = true;
            if (header == 0) {
                finish();
                return false;
            }
            int code = in.readInt();
            byte[] message = in.readNBytes(in.readInt());
            throw CacheErrors.translate(Status.fromCodeValue(code).withDescription(new String(message, StandardCharsets.UTF_8))
                    .asRuntimeException(), "reading " + digest, digest, target);
        }

        private void finish() throws IOException {
            if (received != size) {
                throw truncated(null);
            }
            Digest actual = Digest.fromBytes(sha256.digest());
            if (!actual.equals(digest)) {
                throw new BlobIntegrityException("the " + received + " bytes received from " + target + " as " + digest
                        + " hash to " + actual + "; discard them and retry", null);
            }
        }

        private IOException truncated(IOException cause) {
            return new CacheException("cache-server " + target + " closed its data port " + port + " after " + received
                    + " of " + size + " bytes of " + digest, Status.Code.UNAVAILABLE, cause);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
