package dev.stagefarm.coordinator;

import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.proto.farm.AgentFrame;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays ssh-agent connections ({@code RUN --mount=type=ssh}) from the workers to the client
 * that forwards the agents ({@code --ssh}): one ForwardAgents stream per client session carries
 * every connection of its build, each worker connection is a ConnectAgent stream of its own.
 * The relay sees only opaque bytes; the keys never leave the client's agent.
 *
 * <p>A session serves only the build that opened it: the build's submission {@link #claim}s it
 * (same token as the client that registered it, once) and gets a ticket of its own, which is the
 * only name its jobs reach the agents by. Another build, of any team, that names the session id
 * is refused at submission, and a worker naming a session id rather than a live ticket is refused
 * at connection: knowing a session id (it is in no log, but a client chooses it) gives nothing.
 */
final class AgentRelay {

    private static final Logger log = LoggerFactory.getLogger(AgentRelay.class);

    /** A client's ForwardAgents stream; onNext is not thread-safe, so every send holds its lock. */
    private static final class Session {
        final StreamObserver<AgentFrame> client;
        final Caller owner;
        final Map<String, StreamObserver<AgentFrame>> connections = new ConcurrentHashMap<>();
        /** The ticket of the build that claimed it; null until one did. */
        String ticket;

        Session(StreamObserver<AgentFrame> client, Caller owner) {
            this.client = client;
            this.owner = owner;
        }

        synchronized void send(AgentFrame frame) {
            client.onNext(frame);
        }
    }

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    /** Live tickets, by ticket: what a build's jobs name to reach its client's agents. */
    private final Map<String, Session> tickets = new ConcurrentHashMap<>();

    /** A build may not use the session it names. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * Binds session {@code sessionId} to the build {@code caller} submits now: the session must
     * be open, registered with the caller's own token, and claimed by no build before.
     *
     * @return the ticket the build's jobs connect with; {@link #release} it when the build ends
     */
    String claim(String sessionId, Caller caller) throws Refused {
        Session session = sessions.get(sessionId);
        // one answer for "absent" and "someone else's": a session id tells another team nothing
        String refusal = "no client of yours forwards ssh agents as session " + sessionId
                + ": build with --ssh from the same client and token (each build forwards its own agents)";
        if (session == null || !session.owner.equals(caller)) {
            throw new Refused(refusal);
        }
        String ticket = "agents-" + UUID.randomUUID();
        synchronized (session) {
            if (session.ticket != null) {
                throw new Refused(refusal);
            }
            session.ticket = ticket;
        }
        tickets.put(ticket, session);
        return ticket;
    }

    /** The build ended: its jobs' connections can no longer open. */
    void release(String ticket) {
        tickets.remove(ticket);
    }

    /** The client's side: registered by its first frame, acknowledged with an empty frame. */
    StreamObserver<AgentFrame> forward(StreamObserver<AgentFrame> client) {
        Caller owner = Caller.current(); // the call's context: read it here, not in a callback
        return new StreamObserver<>() {
            private String id;
            private Session session;

            @Override
            public void onNext(AgentFrame frame) {
                if (session == null) {
                    if (frame.getSessionId().isEmpty()) {
                        client.onError(Status.INVALID_ARGUMENT
                                .withDescription("the first ForwardAgents frame must carry the build's session_id")
                                .asRuntimeException());
                        return;
                    }
                    id = frame.getSessionId();
                    session = new Session(client, owner);
                    if (sessions.putIfAbsent(id, session) != null) {
                        session = null;
                        client.onError(Status.ALREADY_EXISTS
                                .withDescription("session " + id + " already forwards its agents")
                                .asRuntimeException());
                        return;
                    }
                    session.send(AgentFrame.getDefaultInstance());
                    return;
                }
                StreamObserver<AgentFrame> worker = session.connections.get(frame.getConnectionId());
                if (worker == null) {
                    return; // the worker side already went away
                }
                synchronized (worker) {
                    if (frame.getClose()) {
                        session.connections.remove(frame.getConnectionId());
                        worker.onCompleted();
                    } else {
                        worker.onNext(
                                AgentFrame.newBuilder().setData(frame.getData()).build());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                end();
            }

            @Override
            public void onCompleted() {
                end();
                client.onCompleted();
            }

            private void end() {
                if (session != null) {
                    sessions.remove(id, session);
                    synchronized (session) {
                        if (session.ticket != null) {
                            tickets.remove(session.ticket);
                        }
                    }
                    session.connections.values().forEach(w -> {
                        synchronized (w) {
                            w.onError(Status.UNAVAILABLE
                                    .withDescription("the client stopped forwarding its ssh agents")
                                    .asRuntimeException());
                        }
                    });
                    session.connections.clear();
                }
            }
        };
    }

    /** A worker's side of one connection; its first frame names the session and the agent. */
    StreamObserver<AgentFrame> connect(StreamObserver<AgentFrame> worker) {
        return new StreamObserver<>() {
            private final String connection = UUID.randomUUID().toString();
            private Session session;

            @Override
            public void onNext(AgentFrame frame) {
                if (session == null) {
                    // only a ticket of a running build: never a client's session id itself
                    session = tickets.get(frame.getSessionId());
                    if (session == null) {
                        synchronized (worker) {
                            worker.onError(Status.NOT_FOUND
                                    .withDescription("no build forwards ssh agents as " + frame.getSessionId()
                                            + " (the build ended, or its client is gone)")
                                    .asRuntimeException());
                        }
                        return;
                    }
                    session.connections.put(connection, worker);
                    session.send(AgentFrame.newBuilder()
                            .setConnectionId(connection)
                            .setSshId(frame.getSshId())
                            .build());
                    log.debug(
                            "ssh agent {} of session {}: connection {} opened",
                            frame.getSshId(),
                            frame.getSessionId(),
                            connection);
                }
                if (!frame.getData().isEmpty()) {
                    session.send(AgentFrame.newBuilder()
                            .setConnectionId(connection)
                            .setData(frame.getData())
                            .build());
                }
            }

            @Override
            public void onError(Throwable t) {
                closed();
            }

            @Override
            public void onCompleted() {
                closed();
            }

            private void closed() {
                if (session != null && session.connections.remove(connection) != null) {
                    session.send(AgentFrame.newBuilder()
                            .setConnectionId(connection)
                            .setClose(true)
                            .build());
                    synchronized (worker) {
                        worker.onCompleted();
                    }
                }
            }
        };
    }
}
