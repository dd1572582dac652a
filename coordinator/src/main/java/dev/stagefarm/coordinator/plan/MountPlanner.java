package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.InvalidValueException;
import dev.stagefarm.dockerfile.RunMount;
import dev.stagefarm.proto.farm.BindMount;
import dev.stagefarm.proto.farm.CacheMount;
import dev.stagefarm.proto.farm.CopySource;
import dev.stagefarm.proto.farm.SecretMount;
import dev.stagefarm.proto.farm.SshMount;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.TmpfsMount;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns {@code RUN --mount=...} into the worker's mount specs with BuildKit's defaults, and adds
 * to the step's key what the mount means: a bind mount's content, a cache or secret mount's
 * identity (never a cache's content nor a secret's value).
 */
final class MountPlanner {

    private final StagePlanner.Inputs in;
    private final Set<Integer> sourceStages;
    /** ssh mounts without a target so far: BuildKit numbers their default sockets from 0. */
    private int sshMounts;

    MountPlanner(StagePlanner.Inputs in, Set<Integer> sourceStages) {
        this.in = in;
        this.sourceStages = sourceStages;
    }

    /** @param expanded the mount's text after variable expansion */
    dev.stagefarm.proto.farm.RunMount plan(String expanded, String workdir, CacheKey key)
            throws InvalidValueException, ContextIndex.MissingSourceException {
        RunMount m = RunMount.parse(expanded);
        var out = dev.stagefarm.proto.farm.RunMount.newBuilder();
        String target = m.target().map(t -> absolute(t, workdir)).orElse("");
        key.add("mount").add(m.type());
        switch (m.type()) {
            case "tmpfs" -> {
                long size = m.option("size").map(MountPlanner::bytes).orElse(0L);
                out.setTmpfs(TmpfsMount.newBuilder().setSizeBytes(size));
                key.add(target).add(Long.toString(size));
            }
            case "cache" -> {
                String id = m.id().filter(s -> !s.isEmpty()).orElse(target);
                String sharing = m.option("sharing").orElse("shared");
                int mode = m.option("mode").map(v -> octal(v, "mode")).orElse(0755);
                int uid = m.option("uid").map(v -> number(v, "uid")).orElse(0);
                int gid = m.option("gid").map(v -> number(v, "gid")).orElse(0);
                CacheMount.Builder cache = CacheMount.newBuilder()
                        .setId(id)
                        .setSharing(sharing)
                        .setUid(uid)
                        .setGid(gid)
                        .setMode(mode);
                // BuildKit keys a RUN on the cache's identity, not on what is in it
                key.add(target)
                        .add(id)
                        .add(sharing)
                        .add(Integer.toString(uid))
                        .add(Integer.toString(gid))
                        .add(Integer.toOctalString(mode))
                        .add(!m.readOnly());
                if (m.from().isPresent()) {
                    // ...but on what a new cache starts from, as on a bind mount's files
                    key.add("seed");
                    cache.setSeed(source(m, m.source().orElse("/"), key));
                }
                out.setCache(cache);
            }
            case "secret" -> {
                String env = m.option("env").orElse("");
                String given = target;
                String id = m.id().filter(s -> !s.isEmpty())
                        .orElseGet(() -> given.isEmpty() ? env : given.substring(given.lastIndexOf('/') + 1));
                if (id.isEmpty()) {
                    throw new InvalidValueException("--mount=type=secret needs an id (id=NAME)");
                }
                if (target.isEmpty() && env.isEmpty()) {
                    target = "/run/secrets/" + id;
                }
                boolean required = m.option("required")
                        .map(v -> v.equalsIgnoreCase("true") || v.equals("1"))
                        .orElse(false);
                int mode = m.option("mode").map(v -> octal(v, "mode")).orElse(0400);
                int uid = m.option("uid").map(v -> number(v, "uid")).orElse(0);
                int gid = m.option("gid").map(v -> number(v, "gid")).orElse(0);
                out.setSecret(SecretMount.newBuilder()
                        .setId(id)
                        .setEnv(env)
                        .setRequired(required)
                        .setUid(uid)
                        .setGid(gid)
                        .setMode(mode));
                key.add(target)
                        .add(id)
                        .add(env)
                        .add(required)
                        .add(Integer.toOctalString(mode))
                        .add(Integer.toString(uid))
                        .add(Integer.toString(gid));
            }
            case "bind" -> {
                key.add(target);
                out.setBind(source(m, m.source().orElse("/"), key).toBuilder().setReadWrite(!m.readOnly()));
                key.add(!m.readOnly());
            }
            case "ssh" -> {
                String id = m.id().filter(s -> !s.isEmpty()).orElse("default");
                if (target.isEmpty()) {
                    target = "/run/buildkit/ssh_agent." + sshMounts++;
                }
                boolean required = m.option("required")
                        .map(v -> v.equalsIgnoreCase("true") || v.equals("1"))
                        .orElse(false);
                int mode = m.option("mode").map(v -> octal(v, "mode")).orElse(0600);
                int uid = m.option("uid").map(v -> number(v, "uid")).orElse(0);
                int gid = m.option("gid").map(v -> number(v, "gid")).orElse(0);
                out.setSsh(SshMount.newBuilder()
                        .setId(id)
                        .setRequired(required)
                        .setUid(uid)
                        .setGid(gid)
                        .setMode(mode));
                // the agent's identity, never what it holds
                key.add(target)
                        .add(id)
                        .add(required)
                        .add(Integer.toOctalString(mode))
                        .add(Integer.toString(uid))
                        .add(Integer.toString(gid));
            }
            default -> throw new InvalidValueException("unsupported mount type \"" + m.type() + "\"");
        }
        return out.setTarget(target).build();
    }

    /**
     * The files a bind mount shows or a cache mount starts from: {@code path} of the context, or
     * of the earlier stage {@code from=} names; added to the key by content.
     */
    private BindMount source(RunMount m, String path, CacheKey key)
            throws InvalidValueException, ContextIndex.MissingSourceException {
        BindMount.Builder bind = BindMount.newBuilder().setPath(ContextIndex.clean(path));
        key.add(ContextIndex.clean(path));
        if (m.from().isEmpty()) {
            ContextIndex.addTo(key, in.context().select(path));
            return bind.setSource(CopySource.newBuilder().setContext(true)).build();
        }
        OptionalInt stage = in.stageIndex(m.from().get());
        if (stage.isEmpty()) {
            throw new InvalidValueException("--mount from=" + m.from().get()
                    + " names no earlier stage; mounting an image is not supported yet");
        }
        StageSource src = in.stageSource(stage.getAsInt(), List.of(path));
        sourceStages.add(stage.getAsInt());
        key.addCopiedFrom(src.getArtifact());
        return bind.setSource(CopySource.newBuilder().setStage(src)).build();
    }

    private static String absolute(String target, String workdir) {
        String joined = target.startsWith("/") ? target : workdir + "/" + target;
        return "/" + ContextIndex.clean(joined);
    }

    /** Docker's RAMInBytes: a number with an optional b, k, m, g suffix (powers of 1024). */
    static long bytes(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        var m = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(i?b)?").matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("size=" + text + ": expected a size such as 64m or 1g");
        }
        int power = "bkmgtp".indexOf(m.group(2).isEmpty() ? "b" : m.group(2));
        return (long) (Double.parseDouble(m.group(1)) * Math.pow(1024, power));
    }

    private static int octal(String v, String field) {
        try {
            return Integer.parseInt(v, 8);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + "=" + v + ": expected an octal mode such as 0755");
        }
    }

    private static int number(String v, String field) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + "=" + v + ": expected a number");
        }
    }
}
