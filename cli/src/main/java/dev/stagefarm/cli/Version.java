package dev.stagefarm.cli;

/** The version line, a constant so that the thin start prints it without loading the CLI. */
public final class Version {

    public static final String TEXT = "stagefarm 0.1.0";

    private Version() {}
}
