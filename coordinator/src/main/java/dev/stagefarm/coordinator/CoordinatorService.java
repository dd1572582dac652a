package dev.stagefarm.coordinator;

import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.version.FarmVersion;
import dev.stagefarm.coordinator.builds.BuildControl;
import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.coordinator.schedule.WorkerPool;
import dev.stagefarm.coordinator.schedule.WorkerSession;
import dev.stagefarm.proto.farm.AgentFrame;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildLogsRequest;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.CancelBuildRequest;
import dev.stagefarm.proto.farm.CancelBuildResponse;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.DrainWorkerRequest;
import dev.stagefarm.proto.farm.DrainWorkerResponse;
import dev.stagefarm.proto.farm.FarmInfo;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.ListBuildsResponse;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.ListWorkersResponse;
import dev.stagefarm.proto.farm.PendingStore;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerInfo;
import dev.stagefarm.proto.farm.WorkerMessage;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The gRPC edge of the coordinator: worker sessions and build submissions. */
final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {

    private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);

    private final WorkerPool pool;
    private final JobDispatcher dispatcher;
    private final BuildRunner builds;
    private final String cacheAddress;
    private final BuildAdmission admission;
    private final AgentRelay agents = new AgentRelay();
    private final BuildControl control;
    private final AtomicLong clientPending;

    CoordinatorService(
            WorkerPool pool,
            JobDispatcher dispatcher,
            BuildRunner builds,
            String cacheAddress,
            BuildAdmission admission,
            BuildControl control,
            AtomicLong clientPending) {
        this.control = control;
        this.clientPending = clientPending;
        this.cacheAddress = cacheAddress;
        this.admission = admission;
        this.pool = pool;
        this.dispatcher = dispatcher;
        this.builds = builds;
    }

    @Override
    public StreamObserver<WorkerMessage> connect(StreamObserver<CoordinatorMessage> responses) {
        return new StreamObserver<>() {
            private WorkerSession session;

            @Override
            public void onNext(WorkerMessage message) {
                switch (message.getKindCase()) {
                    case HELLO -> {
                        if (!compatible(message.getHello(), responses)) {
                            return;
                        }
                        // stores that went on while the worker had no coordinator (or this one restarted),
                        // known before the worker can take jobs
                        for (PendingStore p : message.getHello().getStoringList()) {
                            dispatcher
                                    .pendingStores()
                                    .storing(p.getJobId(), message.getHello().getName(), p.getTeam(), p.getStepKey());
                        }
                        session = pool.join(
                                message.getHello().getName(),
                                message.getHello().getSlots(),
                                responses,
                                Set.copyOf(message.getHello().getEntitlementsList()),
                                message.getHello().getWarningsList(),
                                message.getHello().getRunningList());
                    }
                    case STATUS -> {
                        if (session != null) {
                            session.reportDisk(
                                    message.getStatus().getLocalDiskUsedBytes(),
                                    message.getStatus().getLocalDiskBudgetBytes());
                        }
                    }
                    case HOLDINGS -> {
                        if (session != null) {
                            dispatcher.onHoldings(session, message.getHoldings());
                        }
                    }
                    case EVENT -> {
                        if (session != null) {
                            dispatcher.onEvent(session, message.getEvent());
                        }
                    }
                    case RESULT -> {
                        if (session != null) {
                            dispatcher.onResult(session, message.getResult());
                            // also for a result refused as late or unknown: nothing here wants it again
                            session.received(message.getResult().getJobId());
                        }
                    }
                    case DRAINING -> {
                        if (session != null) {
                            dispatcher.onWorkerDraining(session);
                        }
                    }
                    case LAYERS_STORED -> {
                        if (session != null) {
                            dispatcher
                                    .pendingStores()
                                    .stored(message.getLayersStored().getJobId(), session.name());
                        }
                    }
                    case KIND_NOT_SET -> log.warn("worker sent an empty message");
                }
            }

            @Override
            public void onError(Throwable t) {
                gone();
            }

            @Override
            public void onCompleted() {
                gone();
                responses.onCompleted();
            }

            private void gone() {
                if (session != null) {
                    pool.leave(session);
                    dispatcher.onWorkerLost(session);
                }
            }
        };
    }

    /**
     * The worker's hello names its protocol: another one than ours ends the stream with one
     * sentence, which the worker logs; it keeps retrying, as an upgrade may bring either side level.
     */
    private static boolean compatible(WorkerHello hello, StreamObserver<CoordinatorMessage> responses) {
        FarmVersion worker = FarmVersion.announced(hello.getReleaseVersion(), hello.getProtocolVersion());
        if (worker.compatibleWith(FarmVersion.CURRENT)) {
            return true;
        }
        String sentence = FarmVersion.refusal("worker " + hello.getName(), worker, "coordinator", FarmVersion.CURRENT);
        log.warn("refusing {}", sentence);
        responses.onError(Status.FAILED_PRECONDITION.withDescription(sentence).asRuntimeException());
        return false;
    }

    @Override
    public void build(BuildRequest request, StreamObserver<BuildEvent> responses) {
        var events = new BuildEvents((ServerCallStreamObserver<BuildEvent>) responses, clientPending);
        // The submitter's team, from its token: the build's cache lookups and jobs work there.
        String team = Caller.current().team();
        try {
            admission.admit(team); // before any work, so parallel submissions cannot slip past the limit
        } catch (BuildAdmission.TooManyBuilds e) {
            responses.onError(
                    Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        // --ssh: the build reaches its client's agents only through a ticket of its own
        String agentTicket = "";
        if (!request.getSessionId().isEmpty()) {
            try {
                agentTicket = agents.claim(request.getSessionId(), Caller.current());
            } catch (AgentRelay.Refused e) {
                admission.release(team);
                responses.onError(
                        Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException());
                return;
            }
        }
        BuildRequest claimed = request.toBuilder().setSessionId(agentTicket).build();
        String ticket = agentTicket;
        Thread.ofVirtual().name("build").start(() -> {
            try {
                builds.run(claimed, team, events);
                agents.release(ticket); // before the client hears the end
                events.complete();
            } catch (RuntimeException e) {
                log.error("build failed unexpectedly", e);
                events.fail(Status.INTERNAL
                        .withDescription("coordinator error: " + e)
                        .asRuntimeException());
            } finally {
                agents.release(ticket);
                admission.release(team);
            }
        });
    }

    @Override
    public StreamObserver<AgentFrame> forwardAgents(StreamObserver<AgentFrame> client) {
        return agents.forward(client);
    }

    @Override
    public StreamObserver<AgentFrame> connectAgent(StreamObserver<AgentFrame> worker) {
        return agents.connect(worker);
    }

    @Override
    public void getFarmInfo(FarmInfoRequest request, StreamObserver<FarmInfo> responses) {
        responses.onNext(FarmInfo.newBuilder().setCacheAddress(cacheAddress).build());
        responses.onCompleted();
    }

    @Override
    public void listWorkers(ListWorkersRequest request, StreamObserver<ListWorkersResponse> responses) {
        var reply = ListWorkersResponse.newBuilder();
        for (WorkerSession w : pool.alive()) {
            reply.addWorkers(WorkerInfo.newBuilder()
                    .setName(w.name())
                    .setRunningJobs(w.load())
                    .setSlots(w.slots())
                    .setDraining(w.draining())
                    .addAllWarnings(w.warnings())
                    .setLocalDiskUsedBytes(w.diskUsed())
                    .setLocalDiskBudgetBytes(w.diskBudget())
                    .setIndexedHoldings(dispatcher.read(s -> s.holdings().size(w.id()))));
        }
        responses.onNext(reply.build());
        responses.onCompleted();
    }

    @Override
    public void drainWorker(DrainWorkerRequest request, StreamObserver<DrainWorkerResponse> responses) {
        var worker = pool.named(request.getName());
        if (worker.isEmpty()) {
            responses.onError(Status.NOT_FOUND
                    .withDescription("no worker named " + request.getName()
                            + " is connected: `stagefarm workers` lists those that are")
                    .asRuntimeException());
            return;
        }
        dispatcher.onWorkerDraining(worker.get());
        worker.get().drain();
        responses.onNext(DrainWorkerResponse.getDefaultInstance());
        responses.onCompleted();
    }

    // builds and the farm's web view

    @Override
    public void listBuilds(ListBuildsRequest request, StreamObserver<ListBuildsResponse> responses) {
        control.list(request, responses);
    }

    @Override
    public void cancelBuild(CancelBuildRequest request, StreamObserver<CancelBuildResponse> responses) {
        control.cancel(request, responses);
    }

    @Override
    public void buildLogs(BuildLogsRequest request, StreamObserver<BuildEvent> responses) {
        control.logs(request, responses);
    }
}
