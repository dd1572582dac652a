package dev.stagefarm.coordinator;

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
 */
final class AgentRelay {

    private static final Logger log = LoggerFactory.getLogger(AgentRelay.class);

    /** A client's ForwardAgents stream; onNext is not thread-safe, so every send holds its lock. */
    private static final class Session {
        final StreamObserver<AgentFrame> client;
        final Map<String, StreamObserver<AgentFrame>> connections = new ConcurrentHashMap<>();

        Session(StreamObserver<AgentFrame> client) {
            this.client = client;
        }

        synchronized void send(AgentFrame frame) {
            client.onNext(frame);
        }
    }

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    /** The client's side: registered by its first frame, acknowledged with an empty frame. */
    StreamObserver<AgentFrame> forward(StreamObserver<AgentFrame> client) {
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
                    session = new Session(client);
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
                    session = sessions.get(frame.getSessionId());
                    if (session == null) {
                        synchronized (worker) {
                            worker.onError(Status.NOT_FOUND
                                    .withDescription("no client forwards ssh agents for session " + frame.getSessionId()
                                            + " (the build's client is gone)")
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
