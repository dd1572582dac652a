package dev.stagefarm.worker.ops;

import dev.stagefarm.common.GoGlob;
import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.fs.RootedPaths;
import dev.stagefarm.common.linux.FileStat;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * COPY and ADD with the Dockerfile's rules: a directory source copies its contents, several
 * sources or a trailing '/' make the destination a directory, globs follow Go's filepath.Match,
 * and nothing ever escapes the source or destination root.
 */
public final class CopyExecutor {

    /**
     * What to copy and how. {@code owner} empty keeps the source's owners; {@code mode} empty
     * keeps the source's modes; {@code excludes} are patterns relative to the source root (or to
     * a matched source directory); {@code parents} keeps each source's path under the destination.
     */
    public record Request(
            Path sourceRoot,
            List<String> sources,
            String dest,
            String cwd,
            Optional<Owner> owner,
            Optional<FileMode> mode,
            boolean extractArchives,
            List<String> excludes,
            boolean parents) {

        public Request {
            excludes = List.copyOf(excludes);
        }

        public Request(
                Path sourceRoot,
                List<String> sources,
                String dest,
                String cwd,
                Optional<Owner> owner,
                Optional<Integer> chmod,
                boolean extractArchives) {
            this(sourceRoot, sources, dest, cwd, owner, chmod.map(FileMode::octal), extractArchives, List.of(), false);
        }
    }

    /**
     * One matched source: its path in the source root, the name it takes at the destination (a
     * link's own), the part of it that --parents keeps under the destination, and the source as
     * the Dockerfile wrote it.
     */
    private record Match(String path, String name, String kept, String source) {}

    private final ArchiveExtractor archives;

    /** @param limits how far ADD may unpack a local archive */
    public CopyExecutor(InputLimits limits) {
        this.archives = new ArchiveExtractor(limits);
    }

    public CopyExecutor() {
        this(InputLimits.DEFAULTS);
    }

    /**
     * Copies inside two roots held as descriptors: the source root ({@link RootFs}, every source
     * resolved inside it) and the stage's ({@link CopyTarget}).
     */
    public void copy(Request req, Path rootfs) throws CopyException, IOException {
        List<Pattern> excludes =
                req.excludes().stream().map(p -> GoGlob.compile(clean(p))).toList();
        try (RootFs src = RootFs.open(req.sourceRoot());
                CopyTarget dst = CopyTarget.open(rootfs, req.owner());
                HardLinks links = new HardLinks()) {
            List<Match> matched = new ArrayList<>();
            for (String source : req.sources()) {
                String kept = keptPart(source);
                for (String p : match(src, source)) {
                    if (!excluded(p, excludes)) {
                        matched.add(new Match(
                                p, CopyTarget.name(p), req.parents() ? parentsPath(p, source, kept) : "", source));
                    }
                }
            }
            String dest = req.dest().startsWith("/") ? req.dest() : join(req.cwd(), req.dest());
            String target = dst.follow(dest);
            boolean destIsDir = req.dest().endsWith("/")
                    || req.dest().endsWith("/.")
                    || req.dest().equals(".")
                    || matched.size() > 1
                    || req.sources().size() > 1
                    || dst.isDirectory(target)
                    || req.parents();
            TreeCopier copier = new TreeCopier(req.owner(), req.mode(), excludes, links);
            for (Match m : matched) {
                String base = m.kept().isEmpty() ? target : dst.follow(dest + "/" + m.kept());
                try (FileHandle source = followed(src, m.path(), m.source())) {
                    FileStat st = source.stat();
                    if (st.isDirectory()) {
                        try (FileHandle into = dst.mkdirs(base)) {
                            copier.copyTree(source, src.pathOf(source), "", into);
                        }
                    } else if (req.extractArchives()
                            && st.isRegular()
                            && archives.isArchive(source.procPath(), m.name())) {
                        // unpacked below the descriptor of the destination, whatever its path leads to meanwhile
                        try (FileHandle into = dst.mkdirs(m.kept().isEmpty() ? target : CopyTarget.parent(base))) {
                            archives.extract(source.procPath(), m.name(), into.procPath(), req.owner());
                        }
                    } else {
                        String to = !m.kept().isEmpty() ? base : destIsDir ? TreeCopier.join(target, m.name()) : target;
                        try (FileHandle into = dst.mkdirs(CopyTarget.parent(to))) {
                            copier.copyEntry(source, st, into, CopyTarget.name(to));
                        }
                    }
                }
            }
        }
    }

    static boolean excluded(String path, List<Pattern> patterns) {
        return GoGlob.excludes(patterns, path);
    }

    /** With --parents, the part of a source after a "/./" pivot is kept; without a pivot, the whole path. */
    private static String keptPart(String source) {
        int pivot = source.indexOf("/./");
        return pivot < 0 ? "" : clean(source.substring(0, pivot));
    }

    private static String parentsPath(String rel, String source, String pivotPrefix) {
        if (source.contains("/./") && !pivotPrefix.isEmpty() && rel.startsWith(pivotPrefix + "/")) {
            return rel.substring(pivotPrefix.length() + 1);
        }
        return rel;
    }

    /** The paths (relative to the source root, "" for the root) that {@code source} names. */
    private static List<String> match(RootFs root, String source) throws CopyException, IOException {
        String clean = clean(source);
        if (clean.isEmpty()) {
            return List.of("");
        }
        if (!GoGlob.hasMeta(clean)) {
            if (root.lstat(clean).isEmpty()) {
                throw new CopyException("source \"" + source + "\" not found");
            }
            // links on the way are followed inside the root, as the kernel resolved them
            String parent = CopyTarget.parent(clean);
            return List.of(TreeCopier.join(parent.isEmpty() ? "" : root.resolve(parent, true), CopyTarget.name(clean)));
        }
        Pattern pattern = GoGlob.compile(clean);
        List<String> found = new ArrayList<>();
        try (FileHandle top = root.directory("")) {
            walk(top, "", clean.split("/").length, pattern, found);
        }
        if (found.isEmpty()) {
            throw new CopyException("no source files were specified: \"" + source + "\" matches nothing");
        }
        return found.stream().sorted().toList();
    }

    /** The entries below {@code dir}, down to {@code depth} levels, whose path matches; links are not entered. */
    private static void walk(FileHandle dir, String rel, int depth, Pattern pattern, List<String> found)
            throws IOException {
        for (String name : dir.list()) {
            String path = TreeCopier.join(rel, name);
            if (pattern.matcher(path).matches()) {
                found.add(path);
            }
            if (depth > 1 && dir.childStat(name).map(FileStat::isDirectory).orElse(false)) {
                try (FileHandle sub = dir.childDir(name)) {
                    walk(sub, path, depth - 1, pattern, found);
                }
            }
        }
    }

    /**
     * The matched source, opened: a symlink named as a source, or matched by a glob, is followed
     * inside the source root and its target's content is copied (links inside a copied directory
     * stay links).
     */
    private static FileHandle followed(RootFs root, String path, String source) throws CopyException, IOException {
        FileHandle h = root.handle(path, false);
        if (!h.stat().isSymlink()) {
            return h;
        }
        String link;
        try (h) {
            link = h.readlink();
        }
        try {
            return root.handle(path, true);
        } catch (NoSuchFileException e) {
            throw new CopyException(
                    "source \"" + source + "\" is a symbolic link to " + link + ", which does not exist");
        }
    }

    static String join(String cwd, String rel) {
        String base = cwd == null || cwd.isEmpty() ? "/" : cwd;
        return base.endsWith("/") ? base + rel : base + "/" + rel;
    }

    static String clean(String source) {
        return RootedPaths.clean(source);
    }
}
