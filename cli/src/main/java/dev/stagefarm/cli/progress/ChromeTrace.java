package dev.stagefarm.cli.progress;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code build --trace FILE}: the build in Chrome's Trace Event Format, which Perfetto and
 * chrome://tracing open. One process (track) per worker with a slice per step, the step's
 * transfers nested in it; a worker running stages side by side gets a lane (thread) per slot
 * in use, so slices never overlap on one lane. The coordinator's queue is a track of its own,
 * one lane per stage, with a slice for each wait; steps the coordinator answered from the
 * cache, with no worker, have a track too.
 */
public final class ChromeTrace {

    static final String QUEUE = "coordinator queue";
    static final String CACHE = "coordinator (cache hits)";

    private ChromeTrace() {}

    public static void write(Path file, BuildTimeline t, long now) throws IOException {
        Files.writeString(file, json(t, now).toString());
    }

    static ObjectNode json(BuildTimeline t, long now) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("displayTimeUnit", "ms");
        ArrayNode events = root.putArray("traceEvents");
        Map<String, Integer> pids = new LinkedHashMap<>();
        pids.put(QUEUE, 1);
        pids.put(CACHE, 2);
        // stage jobs per worker, as (start, end) over their steps: the lanes come from these
        Map<String, Map<Integer, long[]>> jobs = new TreeMap<>();
        for (BuildTimeline.Step s : t.steps()) {
            if (s.worker().isEmpty()) {
                continue;
            }
            long[] span = jobs.computeIfAbsent(s.worker(), w -> new TreeMap<>())
                    .computeIfAbsent(s.stage(), k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
            span[0] = Math.min(span[0], s.start());
            span[1] = Math.max(span[1], end(s.end(), now));
        }
        Map<String, Integer> lane = new LinkedHashMap<>();
        for (var worker : jobs.entrySet()) {
            pids.putIfAbsent(worker.getKey(), pids.size() + 1);
            List<long[]> laneEnds = new ArrayList<>();
            List<Map.Entry<Integer, long[]>> byStart =
                    new ArrayList<>(worker.getValue().entrySet());
            byStart.sort(Comparator.comparingLong(e -> e.getValue()[0]));
            for (var job : byStart) {
                int l = 0;
                while (l < laneEnds.size() && laneEnds.get(l)[0] > job.getValue()[0]) {
                    l++;
                }
                if (l == laneEnds.size()) {
                    laneEnds.add(new long[1]);
                }
                laneEnds.get(l)[0] = job.getValue()[1];
                lane.put(worker.getKey() + "/" + job.getKey(), l + 1);
            }
            for (int l = 1; l <= laneEnds.size(); l++) {
                meta(events, "thread_name", pids.get(worker.getKey()), l, "slot " + l);
            }
        }
        pids.forEach((name, pid) -> meta(events, "process_name", pid, 0, name));
        for (BuildTimeline.Step s : t.steps()) {
            boolean onWorker = !s.worker().isEmpty();
            int pid = onWorker ? pids.get(s.worker()) : pids.get(CACHE);
            int tid = onWorker ? lane.get(s.worker() + "/" + s.stage()) : s.stage() + 1;
            ObjectNode slice = slice(
                    events, s.description(), "step", pid, tid, s.start() - t.started(), end(s.end(), now) - s.start());
            slice.putObject("args")
                    .put("stage", s.stage())
                    .put("step", s.index())
                    .put("state", s.state().name())
                    .put("worker", s.worker());
        }
        for (BuildTimeline.Transfer x : t.transfers()) {
            Integer pid = pids.get(x.worker());
            Integer tid = lane.get(x.worker() + "/" + x.stage());
            if (pid == null || tid == null) {
                continue;
            }
            slice(
                            events,
                            "fetch " + x.what() + " " + BuildSummary.bytes(x.bytes()),
                            "transfer",
                            pid,
                            tid,
                            x.start() - t.started(),
                            x.end() - x.start())
                    .putObject("args")
                    .put("bytes", x.bytes())
                    .put("stage", x.stage())
                    .put("step", x.step());
        }
        List<BuildTimeline.QueueWait> waits = new ArrayList<>(t.queueWaits());
        for (BuildTimeline.QueueWait q : t.queued()) {
            waits.add(new BuildTimeline.QueueWait(q.stage(), q.stageName(), "", q.start(), now));
        }
        Set<Integer> named = new HashSet<>();
        for (BuildTimeline.QueueWait q : waits) {
            if (named.add(q.stage())) {
                meta(events, "thread_name", 1, q.stage() + 1, "stage " + q.stageName());
            }
            slice(
                            events,
                            "queued: stage " + q.stageName(),
                            "queue",
                            1,
                            q.stage() + 1,
                            q.start() - t.started(),
                            q.end() - q.start())
                    .putObject("args")
                    .put("stage", q.stage())
                    .put("worker", q.worker());
        }
        return root;
    }

    private static long end(long end, long now) {
        return end < 0 ? now : end;
    }

    private static void meta(ArrayNode events, String what, int pid, int tid, String name) {
        ObjectNode m = events.addObject().put("name", what).put("ph", "M").put("pid", pid);
        if (tid > 0) {
            m.put("tid", tid);
        }
        m.putObject("args").put("name", name);
    }

    private static ObjectNode slice(
            ArrayNode events, String name, String cat, int pid, int tid, long startNanos, long durNanos) {
        return events.addObject()
                .put("name", name)
                .put("cat", cat)
                .put("ph", "X")
                .put("ts", startNanos / 1000.0)
                .put("dur", Math.max(0, durNanos) / 1000.0)
                .put("pid", pid)
                .put("tid", tid);
    }
}
