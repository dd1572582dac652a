package dev.stagefarm.cacheserver.dataport;

import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.BlobCorruptException;
import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.ServerTls;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLServerSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache-server's data port: large reads without gRPC's HTTP/2 framing, as HDFS's data
 * transfer protocol runs beside its RPC. OpenRead authorises a read and hands out a ticket
 * ({@link ReadTickets}); the client connects here, sends the ticket, and the range comes back
 * in frames of one chunk each, every chunk checked against its CRC32C before it is sent.
 *
 * <p>Protocol, all integers big-endian: the client sends {@link #MAGIC} and the ticket; the
 * server answers with frames, {@code int32 n > 0} and n bytes of data, until {@code int32 0}
 * (the range is complete) or {@code int32 -1, int32 grpcCode, int32 length, UTF-8 message}
 * (the read failed: an unknown or expired ticket, a corrupt chunk). Then it closes.
 *
 * <p>Why it exists (cache-server/README.md, "The data port"): receiving over HTTP/2 costs the
 * client about 0.6 CPU-seconds per GiB more than a plain socket (16 KiB frames, copies of
 * partial frames, message decoding, a thread hand-off), which on a machine where client and
 * server share the cores is a third of a large read's throughput. With TLS configured the port
 * serves TLS (and requires client certificates) exactly as the gRPC port does.
 */
public final class DataPort implements AutoCloseable {

    public static final byte[] MAGIC = "SFD1".getBytes(StandardCharsets.US_ASCII);

    private static final Logger log = LoggerFactory.getLogger(DataPort.class);

    private final ServerSocket listener;
    private final ReadTickets tickets;
    private final CacheMetrics metrics;
    /**
     * A platform thread per connection, as HDFS has a DataXceiver thread per transfer: a virtual
     * thread parks whenever the socket's send buffer is full and is woken through the poller,
     * a hand-off per wake-up that a thread blocking in write(2) does not pay. Connections are
     * few (one per large read in flight) and each lasts as long as its transfer.
     */
    private final ExecutorService connections = Executors.newCachedThreadPool(
            Thread.ofPlatform().daemon().name("data-port-", 0).factory());

    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    /** Expires tickets, and closes connections that send none in time. */
    private final ScheduledExecutorService timer;

    private final DataPortLimits limits;
    private final Admission admission;
    private final Thread acceptor;
    private volatile boolean closed;

    private DataPort(ServerSocket listener, ReadTickets tickets, CacheMetrics metrics, DataPortLimits limits) {
        this.listener = listener;
        this.limits = limits;
        this.admission = new Admission(limits);
        this.tickets = tickets;
        this.metrics = metrics;
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("data-port-timer").factory());
        this.acceptor = Thread.ofPlatform().daemon().name("data-port-accept").unstarted(this::acceptLoop);
    }

    /** Binds {@code listen} (port 0: a free one) and starts serving the tickets {@code tickets} issues. */
    public static DataPort open(HostPort listen, ServerTls tls, ReadTickets tickets, CacheMetrics metrics)
            throws IOException {
        return open(listen, tls, tickets, metrics, DataPortLimits.DEFAULTS);
    }

    /** As {@link #open(HostPort, ServerTls, ReadTickets, CacheMetrics)}, within {@code limits}. */
    public static DataPort open(
            HostPort listen, ServerTls tls, ReadTickets tickets, CacheMetrics metrics, DataPortLimits limits)
            throws IOException {
        ServerSocket listener;
        if (tls.enabled()) {
            SSLServerSocket secure =
                    (SSLServerSocket) tls.sslContext().getServerSocketFactory().createServerSocket();
            secure.setNeedClientAuth(tls.clientCa() != null);
            listener = secure;
        } else {
            // A channel's socket: its connections have channels, for gathering writes from direct buffers.
            listener = ServerSocketChannel.open().socket();
        }
        try {
            listener.bind(listen.toSocketAddress());
        } catch (IOException e) {
            listener.close();
            throw new IOException(
                    "cannot bind the data port " + listen + " (" + e.getMessage()
                            + "); choose another with --data-listen, or turn it off with --data-listen off",
                    e);
        }
        DataPort port = new DataPort(listener, tickets, metrics, limits);
        long every = ReadTickets.LIFETIME.toSeconds() / 3;
        port.timer.scheduleWithFixedDelay(tickets::expire, every, every, TimeUnit.SECONDS);
        port.acceptor.start();
        return port;
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = listener.accept();
                InetAddress caller = socket.getInetAddress();
                Admission.Refusal refusal = admission.admit(caller);
                if (refusal != null) {
                    // Closed on the accept thread, before a thread or a buffer is spent on it.
                    reject(
                            socket,
                            refusal.reason,
                            refusal == Admission.Refusal.PORT_FULL
                                    ? limits.maxConnections() + " connections open (--data-max-connections)"
                                    : limits.maxPerAddress() + " connections from this address, a quarter of all");
                    closeQuietly(socket);
                    continue;
                }
                open.add(socket);
                try {
                    connections.execute(() -> {
                        try (socket) {
                            serve(socket);
                        } catch (IOException e) {
                            // The client went away (or never finished its TLS handshake): nothing to serve.
                            log.debug(
                                    "cache-server: data port connection from {} ended: {}",
                                    socket.getRemoteSocketAddress(),
                                    e.toString());
                        } finally {
                            open.remove(socket);
                            admission.release(caller);
                        }
                    });
                } catch (RejectedExecutionException e) {
                    // Closing: the pool takes no more work.
                    open.remove(socket);
                    admission.release(caller);
                    closeQuietly(socket);
                }
            } catch (IOException e) {
                if (!closed) {
                    log.warn("cache-server: data port accept failed: {}", e.toString());
                }
            }
        }
    }

    private void serve(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        InputStream in = socket.getInputStream();
        // A plaintext connection is a socket channel: each frame goes out in one gathering write,
        // from the reader's direct buffer. TLS needs the SSLSocket's streams, and heap arrays.
        SocketChannel channel = socket.getChannel();
        Sender out = channel != null ? new ChannelSender(channel) : new StreamSender(socket.getOutputStream());
        // A watchdog rather than SO_TIMEOUT: with a timeout the JDK switches the socket to
        // non-blocking for good, and every write that finds the send buffer full then costs a
        // poll(2) and a wake-up.
        // The whole request, from accept, within the limit: a deadline, not an idle timeout, so
        // a client that trickles a byte a second is closed as surely as a silent one.
        AtomicBoolean late = new AtomicBoolean();
        ScheduledFuture<?> watchdog = timer.schedule(
                () -> {
                    late.set(true);
                    closeQuietly(socket);
                },
                limits.ticketTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        byte[] magic;
        byte[] ticket = null;
        try {
            magic = in.readNBytes(MAGIC.length);
            // Wrong magic ends the connection now, rather than waiting for a ticket's worth of bytes.
            if (Arrays.equals(magic, MAGIC)) {
                ticket = in.readNBytes(ReadTickets.TICKET_BYTES);
            }
        } catch (IOException e) {
            if (!late.get()) {
                throw e;
            }
        } finally {
            watchdog.cancel(false);
        }
        if (late.get()) {
            reject(
                    socket,
                    "timeout",
                    "no complete ticket within " + limits.ticketTimeout().toMillis() + " ms");
            return;
        }
        if (ticket == null) {
            reject(socket, "bad_request", "not the data port's protocol");
            fail(
                    out,
                    Status.Code.INVALID_ARGUMENT,
                    "this is a stagefarm cache-server data port: it serves reads opened"
                            + " with OpenRead on the gRPC port");
            return;
        }
        ReadTickets.Pending read = ticket.length == ReadTickets.TICKET_BYTES ? tickets.redeem(ticket) : null;
        if (read == null) {
            reject(socket, "unknown_ticket", "an unknown, used or expired ticket");
            fail(
                    out,
                    Status.Code.NOT_FOUND,
                    "unknown or expired read ticket (a ticket is good for one connection within "
                            + ReadTickets.LIFETIME.toSeconds() + " s); call OpenRead again");
            return;
        }
        metrics.blobHits(1);
        long started = System.nanoTime();
        Status.Code code = Status.Code.OK;
        String failure = null;
        try (BlobReader reader = read.reader()) {
            sendChunks(channel != null ? reader.reusingDirectBuffer() : reader.reusingBuffer(), out);
        } catch (BlobCorruptException e) {
            metrics.corruptBlob();
            code = Status.Code.DATA_LOSS;
            failure = e.getMessage();
        } catch (StoreException e) {
            code = Statuses.of(e).getStatus().getCode();
            failure = e.getMessage();
        } catch (IOException e) {
            metrics.requestTook(
                    "DataPortRead", Status.Code.CANCELLED.name(), Duration.ofNanos(System.nanoTime() - started));
            throw e;
        }
        // Counted before the last frame goes out: a client that has the whole answer finds the
        // transfer in the metrics.
        metrics.requestTook("DataPortRead", code.name(), Duration.ofNanos(System.nanoTime() - started));
        if (failure == null) {
            out.send(ByteBuffer.allocate(Integer.BYTES).putInt(0).flip());
        } else {
            fail(out, code, failure);
        }
    }

    /** The range's chunks, a frame each; the end (or the error) is the caller's to send. */
    private void sendChunks(BlobReader reader, Sender out) throws StoreException, IOException {
        ByteBuffer header = ByteBuffer.allocateDirect(Integer.BYTES);
        for (ByteBuffer piece; (piece = reader.next()) != null; ) {
            int n = piece.remaining();
            if (n == 0) {
                continue;
            }
            out.send(header.clear().putInt(n).flip(), piece);
            metrics.bytesOut(n);
        }
    }

    private static void fail(Sender out, Status.Code code, String message) throws IOException {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuffer frame = ByteBuffer.allocate(3 * Integer.BYTES + text.length)
                .putInt(-1)
                .putInt(code.value())
                .putInt(text.length)
                .put(text)
                .flip();
        out.send(frame);
    }

    /** Writes the given buffers, whole and in order. */
    private interface Sender {
        void send(ByteBuffer... buffers) throws IOException;
    }

    private record ChannelSender(SocketChannel channel) implements Sender {
        @Override
        public void send(ByteBuffer... buffers) throws IOException {
            ByteBuffer last = buffers[buffers.length - 1];
            while (last.hasRemaining()) {
                channel.write(buffers);
            }
        }
    }

    private static final class StreamSender implements Sender {
        private final OutputStream out;
        private byte[] copy = new byte[0];

        StreamSender(OutputStream out) {
            this.out = out;
        }

        @Override
        public void send(ByteBuffer... buffers) throws IOException {
            for (ByteBuffer buffer : buffers) {
                int n = buffer.remaining();
                if (buffer.hasArray()) {
                    out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
                } else {
                    if (copy.length < n) {
                        copy = new byte[n];
                    }
                    buffer.get(buffer.position(), copy, 0, n);
                    out.write(copy, 0, n);
                }
                buffer.position(buffer.limit());
            }
            out.flush();
        }
    }

    /**
     * Counts and logs a connection turned away, at debug: a flood of them must not flood the
     * log (the counter is what an operator watches). The caller closes it.
     */
    private void reject(Socket socket, String reason, String why) {
        metrics.dataPortRejected(reason);
        log.debug("cache-server: data port refused the connection from {}: {}", socket.getRemoteSocketAddress(), why);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("cache-server: closing a data port connection: {}", e.toString());
        }
    }

    /** Stops accepting, drops the connections being served, and closes the waiting reads. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("cache-server: closing the data port: {}", e.toString());
        }
        open.forEach(DataPort::closeQuietly);
        timer.shutdownNow();
        connections.shutdown();
        try {
            connections.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tickets.close();
    }
}
