package dev.stagefarm.oci.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Healthcheck;
import dev.stagefarm.oci.HistoryEntry;
import dev.stagefarm.oci.ImageConfig;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/** Translates {@link ImageConfig} to and from its JSON; the output is deterministic (same config, same bytes). */
public final class ImageConfigJson {

    private ImageConfigJson() {}

    public static ImageConfig parse(byte[] json) throws IOException {
        ConfigTemplate t = Json.read(json, ConfigTemplate.class, "image config");
        ImageConfig.Builder b = ImageConfig.builder()
                .architecture(t.architecture)
                .os(t.os)
                .variant(t.variant)
                .created(instant(t.created, "created"))
                .author(t.author)
                .extraFields(raw(t.extra));
        ConfigTemplate.RunConfig c = t.config;
        if (c != null) {
            b.user(c.user)
                    .env(orEmpty(c.env))
                    .entrypoint(c.entrypoint)
                    .cmd(c.cmd)
                    .workingDir(c.workingDir)
                    .exposedPorts(c.exposedPorts == null ? List.of() : c.exposedPorts.keySet())
                    .volumes(c.volumes == null ? List.of() : c.volumes.keySet())
                    .labels(c.labels == null ? Map.of() : c.labels)
                    .stopSignal(c.stopSignal)
                    .onBuild(orEmpty(c.onBuild))
                    .shell(c.shell)
                    .extraRunFields(raw(c.extra));
            if (c.healthcheck != null) {
                ConfigTemplate.HealthConfig h = c.healthcheck;
                b.healthcheck(new Healthcheck(
                        orEmpty(h.test),
                        nanos(h.interval),
                        nanos(h.timeout),
                        nanos(h.startPeriod),
                        nanos(h.startInterval),
                        h.retries == null ? 0 : h.retries));
            }
        }
        if (t.rootfs != null) {
            b.rootfsType(t.rootfs.type);
            List<Digest> diffIds = new ArrayList<>();
            for (String d : orEmpty(t.rootfs.diffIds)) {
                try {
                    diffIds.add(Digest.parse(d));
                } catch (IllegalArgumentException e) {
                    throw new IOException("image config has an unusable diff_id: " + e.getMessage(), e);
                }
            }
            b.diffIds(diffIds);
        }
        List<HistoryEntry> history = new ArrayList<>();
        for (ConfigTemplate.History h : orEmpty(t.history)) {
            history.add(new HistoryEntry(
                    instant(h.created, "history created"),
                    h.createdBy,
                    h.author,
                    h.comment,
                    Boolean.TRUE.equals(h.emptyLayer)));
        }
        return b.history(history).build();
    }

    public static byte[] toJson(ImageConfig config) {
        ConfigTemplate t = new ConfigTemplate();
        t.architecture = config.architecture();
        t.os = config.os();
        t.variant = config.variant();
        t.created = format(config.created());
        t.author = config.author();
        config.extraFields().forEach((k, v) -> t.extra.put(k, Json.fromRawText(v)));

        ConfigTemplate.RunConfig c = new ConfigTemplate.RunConfig();
        c.user = config.user();
        c.env = nullIfEmpty(config.env());
        c.entrypoint = config.entrypoint();
        c.cmd = config.cmd();
        c.workingDir = config.workingDir();
        c.exposedPorts = emptyObjects(config.exposedPorts());
        c.volumes = emptyObjects(config.volumes());
        c.labels = config.labels().isEmpty() ? null : config.labels();
        c.stopSignal = config.stopSignal();
        c.onBuild = nullIfEmpty(config.onBuild());
        c.shell = config.shell();
        if (config.healthcheck() != null) {
            Healthcheck h = config.healthcheck();
            ConfigTemplate.HealthConfig hc = new ConfigTemplate.HealthConfig();
            hc.test = h.test();
            hc.interval = nanos(h.interval());
            hc.timeout = nanos(h.timeout());
            hc.startPeriod = nanos(h.startPeriod());
            hc.startInterval = nanos(h.startInterval());
            hc.retries = h.retries() == 0 ? null : h.retries();
            c.healthcheck = hc;
        }
        config.extraRunFields().forEach((k, v) -> c.extra.put(k, Json.fromRawText(v)));
        t.config = c;

        t.rootfs = new ConfigTemplate.Rootfs();
        t.rootfs.type = config.rootfsType();
        t.rootfs.diffIds = config.diffIds().stream().map(Digest::toString).toList();

        if (!config.history().isEmpty()) {
            t.history = new ArrayList<>();
            for (HistoryEntry e : config.history()) {
                ConfigTemplate.History h = new ConfigTemplate.History();
                h.created = format(e.created());
                h.createdBy = e.createdBy();
                h.author = e.author();
                h.comment = e.comment();
                h.emptyLayer = e.emptyLayer() ? Boolean.TRUE : null;
                t.history.add(h);
            }
        }
        return Json.write(t);
    }

    private static SortedMap<String, String> raw(Map<String, JsonNode> extra) {
        SortedMap<String, String> out = new TreeMap<>();
        extra.forEach((k, v) -> out.put(k, Json.rawText(v)));
        return out;
    }

    private static Map<String, Map<String, Object>> emptyObjects(Set<String> keys) {
        if (keys.isEmpty()) {
            return null;
        }
        Map<String, Map<String, Object>> m = new LinkedHashMap<>();
        keys.forEach(k -> m.put(k, Map.of()));
        return m;
    }

    private static Instant instant(String text, String field) throws IOException {
        if (text == null) {
            return null;
        }
        try {
            return DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(text, Instant::from);
        } catch (DateTimeParseException e) {
            throw new IOException("image config field " + field + " is not an RFC 3339 time: " + text, e);
        }
    }

    private static String format(Instant i) {
        return i == null ? null : DateTimeFormatter.ISO_INSTANT.format(i);
    }

    private static Duration nanos(Long n) {
        return n == null ? null : Duration.ofNanos(n);
    }

    private static Long nanos(Duration d) {
        return d == null ? null : d.toNanos();
    }

    private static <T> List<T> orEmpty(List<T> l) {
        return l == null ? List.of() : l;
    }

    private static <T> List<T> nullIfEmpty(List<T> l) {
        return l.isEmpty() ? null : l;
    }
}
