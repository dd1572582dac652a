package dev.stagefarm.coordinator.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.output.OutputLines;
import dev.stagefarm.coordinator.builds.BuildBook;
import dev.stagefarm.coordinator.builds.BuildRecord;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.ListBuildsResponse;
import dev.stagefarm.proto.farm.ListWorkersResponse;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.proto.farm.StageTimeline;
import dev.stagefarm.proto.farm.StepEvent;
import dev.stagefarm.proto.farm.WorkerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the web page shows, as JSON, for one viewer: the same messages the gRPC API answers
 * ({@code ListWorkers}, {@code ListBuilds}) in protobuf's JSON mapping, so a field added to
 * {@code WorkerInfo} (local disk, say) reaches the page without a change here.
 */
public final class FarmView {

    /** Log lines and step events the page shows of one build: its last ones. */
    static final int LOG_TAIL = 300;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    private final BuildBook book;
    private final Supplier<ListWorkersResponse> workers;

    public FarmView(BuildBook book, Supplier<ListWorkersResponse> workers) {
        this.book = book;
        this.workers = workers;
    }

    /** Workers, the queue, recent builds (the viewer's own, others as counts). */
    public String overview(Caller viewer, boolean open) {
        ListBuildsResponse builds = book.list(
                viewer,
                ListBuildsRequest.newBuilder()
                        .setIncludeFinished(true)
                        .setWithStages(true)
                        .build());
        ObjectNode root = JSON.createObjectNode();
        root.putObject("viewer")
                .put("team", viewer.team())
                .put("name", viewer.name())
                .put("seesAll", builds.getViewerSeesAll())
                .put("open", open);
        ArrayNode ws = root.putArray("workers");
        for (WorkerInfo w : workers.get().getWorkersList()) {
            ObjectNode node = (ObjectNode) tree(w);
            node.put("state", w.getDraining() ? "draining" : w.getRunningJobs() > 0 ? "busy" : "idle");
            ws.add(node);
        }
        ArrayNode queue = root.putArray("queue");
        ArrayNode list = root.putArray("builds");
        for (BuildSummary b : builds.getBuildsList()) {
            for (StageTimeline s : b.getStagesList()) {
                if (s.getState() == StageTimeline.State.QUEUED) {
                    queue.addObject()
                            .put("buildId", b.getBuildId())
                            .put("team", b.getTeam())
                            .put("stage", s.getName())
                            .put("queuedAt", s.getQueuedAt());
                }
            }
            ObjectNode node = (ObjectNode) tree(b);
            node.remove("stages");
            list.add(node);
        }
        root.set("otherTeams", tree(builds).path("otherTeams"));
        return root.toString();
    }

    /** One build with its stage timeline and the tail of its log, when the viewer may see it. */
    public Optional<String> build(Caller viewer, String id) {
        Optional<BuildRecord> found = book.find(id).filter(b -> BuildBook.maySee(viewer, b));
        if (found.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode root = (ObjectNode) tree(found.get().summary(true));
        ArrayNode log = root.putArray("log");
        for (BuildEvent e : lines(found.get().log().tail(LOG_TAIL))) {
            log.add(tree(e));
        }
        return Optional.of(root.toString());
    }

    /**
     * The events with output as whole lines (workers send it in chunks that may end inside one),
     * the last {@link #LOG_TAIL} of them, so the page's script prints each as it comes.
     */
    private static List<BuildEvent> lines(List<BuildEvent> events) {
        OutputLines lines = new OutputLines();
        List<BuildEvent> out = new ArrayList<>();
        for (BuildEvent e : events) {
            switch (e.getKindCase()) {
                case LOG -> lines.accept(e.getLog()).forEach(l -> out.add(line(l)));
                case STEP -> {
                    if (e.getStep().getStatus() != StepEvent.Status.STARTED) {
                        lines.end(e.getStep().getStageIndex(), e.getStep().getStepIndex())
                                .forEach(l -> out.add(line(l)));
                    }
                    out.add(e);
                }
                default -> out.add(e);
            }
        }
        lines.endAll().forEach(l -> out.add(line(l)));
        return out.subList(Math.max(0, out.size() - LOG_TAIL), out.size());
    }

    private static BuildEvent line(OutputLines.Line line) {
        return BuildEvent.newBuilder()
                .setLog(LogLine.newBuilder()
                        .setStageIndex(line.stageIndex())
                        .setStepIndex(line.stepIndex())
                        .setText(line.text()))
                .build();
    }

    private static JsonNode tree(MessageOrBuilder message) {
        try {
            return JSON.readTree(PRINTER.print(message));
        } catch (InvalidProtocolBufferException | JsonProcessingException e) {
            throw new IllegalStateException("a farm message has no JSON form: " + e.getMessage(), e);
        }
    }
}
