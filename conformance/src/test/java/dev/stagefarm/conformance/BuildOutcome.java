package dev.stagefarm.conformance;

/** A build's exit code and output, and the image when it succeeded (null when it failed). */
record BuildOutcome(String builder, Processes.Result result, BuiltImage image) {

    boolean succeeded() {
        return image != null;
    }

    BuiltImage requireImage() {
        if (image == null) {
            throw new AssertionError(
                    builder + " build failed (exit " + result.exitCode() + "):\n" + Processes.tail(result.output()));
        }
        return image;
    }
}
