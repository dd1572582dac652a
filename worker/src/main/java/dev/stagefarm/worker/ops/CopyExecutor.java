package dev.stagefarm.worker.ops;

import dev.stagefarm.common.GoGlob;
import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.fs.RootPath;
import dev.stagefarm.common.fs.RootedPaths;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

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
     * One matched source: the path whose content is copied (a symlink named as a source is
     * followed, as BuildKit does), the name it takes at the destination (the link's own), and
     * the part of it that --parents keeps under the destination.
     */
    private record Match(Path path, String name, String kept) {}

    private final ArchiveExtractor archives;

    /** @param limits how far ADD may unpack a local archive */
    public CopyExecutor(InputLimits limits) {
        this.archives = new ArchiveExtractor(limits);
    }

    public CopyExecutor() {
        this(InputLimits.DEFAULTS);
    }

    public void copy(Request req, Path rootfs) throws CopyException, IOException {
        List<Pattern> excludes =
                req.excludes().stream().map(p -> GoGlob.compile(clean(p))).toList();
        List<Match> matched = new ArrayList<>();
        for (String source : req.sources()) {
            String kept = keptPart(source);
            for (Path p : match(req.sourceRoot(), source)) {
                if (!excluded(req.sourceRoot().relativize(p).toString(), excludes)) {
                    matched.add(new Match(
                            followed(req.sourceRoot(), p, source),
                            p.getFileName().toString(),
                            req.parents() ? parentsPath(req.sourceRoot(), p, source, kept) : ""));
                }
            }
        }
        String dest = req.dest().startsWith("/") ? req.dest() : join(req.cwd(), req.dest());
        Path target = RootPath.resolve(rootfs, dest);
        boolean destIsDir = req.dest().endsWith("/")
                || req.dest().endsWith("/.")
                || req.dest().equals(".")
                || matched.size() > 1
                || req.sources().size() > 1
                || Files.isDirectory(target)
                || req.parents();
        HardLinks links = new HardLinks();
        for (Match m : matched) {
            Path source = m.path();
            Path base = m.kept().isEmpty() ? target : RootPath.resolve(rootfs, dest + "/" + m.kept());
            Tree tree = new Tree(req, excludes, req.sourceRoot(), source, links);
            boolean isDir = Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS);
            if (isDir) {
                mkdirs(rootfs, base, req.owner());
                copyTree(source, base, tree);
            } else if (req.extractArchives() && archives.isArchive(source)) {
                Path into = m.kept().isEmpty() ? target : base.getParent();
                mkdirs(rootfs, into, req.owner());
                // the kernel resolves the destination again inside the stage's root, and the archive is
                // unpacked below the descriptor it returned, whatever the path leads to meanwhile
                try (RootFs stage = RootFs.open(rootfs);
                        FileHandle dir = stage.handle(rootfs.relativize(into).toString(), true)) {
                    archives.extract(source, dir.procPath(), req.owner());
                }
            } else {
                Path to = !m.kept().isEmpty() ? base : destIsDir ? target.resolve(m.name()) : target;
                mkdirs(rootfs, to.getParent(), req.owner());
                copyEntry(source, to, req, links);
            }
        }
    }

    /** What one matched source's tree needs to know to skip excluded entries. */
    private record Tree(Request req, List<Pattern> excludes, Path sourceRoot, Path matchRoot, HardLinks links) {
        boolean skip(Path p) {
            return !excludes.isEmpty()
                    && (excluded(sourceRoot.relativize(p).toString(), excludes)
                            || excluded(matchRoot.relativize(p).toString(), excludes));
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

    private static String parentsPath(Path root, Path match, String source, String pivotPrefix) {
        String rel = root.relativize(match).toString();
        if (source.contains("/./") && !pivotPrefix.isEmpty() && rel.startsWith(pivotPrefix + "/")) {
            rel = rel.substring(pivotPrefix.length() + 1);
        }
        return rel;
    }

    private List<Path> match(Path root, String source) throws CopyException, IOException {
        String clean = clean(source);
        if (clean.isEmpty()) {
            return List.of(root);
        }
        if (!GoGlob.hasMeta(clean)) {
            Path p = RootPath.resolveNoFollow(root, clean);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new CopyException("source \"" + source + "\" not found");
            }
            return List.of(p);
        }
        Pattern pattern = GoGlob.compile(clean);
        int depth = clean.split("/").length;
        List<Path> found;
        try (Stream<Path> walk = Files.walk(root, depth)) {
            found = walk.filter(p -> !p.equals(root))
                    .filter(p -> pattern.matcher(root.relativize(p).toString()).matches())
                    .sorted()
                    .toList();
        }
        if (found.isEmpty()) {
            throw new CopyException("no source files were specified: \"" + source + "\" matches nothing");
        }
        return found;
    }

    private void copyTree(Path from, Path to, Tree tree) throws IOException {
        Request req = tree.req();
        try (Stream<Path> children = Files.list(from)) {
            for (Path child : children.sorted().toList()) {
                if (tree.skip(child)) {
                    continue;
                }
                Path dest = to.resolve(child.getFileName().toString());
                if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    if (!Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
                        Files.deleteIfExists(dest);
                        Files.createDirectory(dest);
                    }
                    copyTree(child, dest, tree);
                    applyAttributes(child, dest, req);
                } else {
                    copyEntry(child, dest, req, tree.links());
                }
            }
        }
    }

    private void copyEntry(Path from, Path to, Request req, HardLinks links) throws IOException {
        if (Files.isDirectory(to, LinkOption.NOFOLLOW_LINKS)) {
            // COPY of a file onto an existing directory path replaces nothing silently
            throw new FileAlreadyExistsException(to.toString(), null, "cannot copy a file over a directory");
        }
        Optional<Path> first = links.firstCopyOf(from, to);
        if (first.isPresent()) {
            // a second name of a file already copied in this step: the same inode, as in the source
            Files.deleteIfExists(to);
            Files.createLink(to, first.get());
            return;
        }
        Files.copy(
                from,
                to,
                StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.COPY_ATTRIBUTES,
                LinkOption.NOFOLLOW_LINKS);
        applyAttributes(from, to, req);
    }

    /**
     * A symlink named as a source, or matched by a glob, is followed inside the source root: its
     * target's content is copied (links inside a copied directory stay links).
     */
    private static Path followed(Path root, Path matched, String source) throws CopyException, IOException {
        if (!Files.isSymbolicLink(matched)) {
            return matched;
        }
        Path target = RootPath.resolve(root, root.relativize(matched).toString());
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new CopyException("source \"" + source + "\" is a symbolic link to " + Files.readSymbolicLink(matched)
                    + ", which does not exist");
        }
        return target;
    }

    private static void applyAttributes(Path from, Path to, Request req) throws IOException {
        // without --chown the source's owner is kept, directories included
        chown(to, req.owner().isPresent() ? req.owner().get() : ownerOf(from));
        boolean link = Files.isSymbolicLink(to);
        if (!link) {
            // keep setuid/setgid/sticky, which the JDK's attribute copy may drop
            int mode = (Integer) Files.getAttribute(from, "unix:mode") & 07777;
            if (req.mode().isPresent()) {
                mode = req.mode().get().apply(mode, Files.isDirectory(to, LinkOption.NOFOLLOW_LINKS));
            }
            Files.setAttribute(to, "unix:mode", mode);
        }
        FileTime mtime = Files.getLastModifiedTime(from, LinkOption.NOFOLLOW_LINKS);
        if (!link) {
            Files.setLastModifiedTime(to, mtime);
        }
    }

    private static Owner ownerOf(Path p) throws IOException {
        return new Owner((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS), (Integer)
                Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }

    static void chown(Path p, Owner owner) throws IOException {
        Files.setAttribute(p, "unix:uid", owner.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", owner.gid(), LinkOption.NOFOLLOW_LINKS);
    }

    /** mkdir -p inside the rootfs; directories it creates belong to the --chown owner, else root. */
    private static void mkdirs(Path rootfs, Path dir, Optional<Owner> owner) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (!dir.startsWith(rootfs)) {
            throw new IOException("destination " + dir + " is outside the image");
        }
        mkdirs(rootfs, dir.getParent(), owner);
        Files.deleteIfExists(dir); // a file in the way of a directory destination is replaced
        Files.createDirectory(dir);
        Files.setAttribute(dir, "unix:mode", 0755);
        chown(dir, owner.orElse(Owner.ROOT));
    }

    static String join(String cwd, String rel) {
        String base = cwd == null || cwd.isEmpty() ? "/" : cwd;
        return base.endsWith("/") ? base + rel : base + "/" + rel;
    }

    static String clean(String source) {
        return RootedPaths.clean(source);
    }
}
