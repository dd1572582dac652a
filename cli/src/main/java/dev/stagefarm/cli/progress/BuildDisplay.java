package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildResult;
import java.io.PrintStream;

/**
 * How {@code stagefarm build} shows a build ({@code --progress}): the events as they come, the
 * lines of the client's own work (context upload, outputs), a summary at the end, an error.
 * The client calls them in this order: {@link #event} while the build runs, {@link #endEvents}
 * once its last event came, then {@link #info} lines, then {@link #summary} or {@link #error}.
 */
public interface BuildDisplay extends AutoCloseable {

    void event(BuildEvent event);

    /** The event stream ended: a live display draws its last frame and stops. */
    void endEvents();

    /** Where the client's own lines go (nowhere for quiet and rawjson). */
    PrintStream info();

    void summary(BuildResult result);

    /** The build failed; {@code message} is the whole story the user reads. */
    void error(String message);

    /** The timeline so far, for a trace. */
    BuildTimeline timeline();

    @Override
    void close();
}
