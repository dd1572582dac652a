package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.worker.baseimage.LayerLimits;
import picocli.CommandLine.Option;

/** How big a base image a worker pulls and unpacks (see SECURITY.md for why these defaults). */
public final class BaseImageLimitsOptions {

    @Option(
            names = "--max-layer-size",
            paramLabel = "SIZE",
            defaultValue = "8GiB",
            description = "The largest compressed layer of a base image the worker pulls; a layer declared or"
                    + " read bigger fails the build (default: ${DEFAULT-VALUE}).")
    String maxLayerSize;

    @Option(
            names = "--max-image-size",
            paramLabel = "SIZE",
            defaultValue = "32GiB",
            description = "The most the compressed layers of one base image may have together"
                    + " (default: ${DEFAULT-VALUE}).")
    String maxImageSize;

    @Option(
            names = "--max-layer-unpacked-size",
            paramLabel = "SIZE",
            defaultValue = "32GiB",
            description = "The most one base-image layer may write when unpacked (default: ${DEFAULT-VALUE}).")
    String maxLayerUnpackedSize;

    @Option(
            names = "--max-layer-entries",
            paramLabel = "N",
            defaultValue = "2000000",
            description = "The most files, directories and links one base-image layer may hold"
                    + " (default: ${DEFAULT-VALUE}).")
    long maxLayerEntries;

    @Option(
            names = "--max-layer-ratio",
            paramLabel = "N",
            defaultValue = "100",
            description = "A base-image layer may expand at most N times its compressed size, past its first"
                    + " 32 MiB: a decompression bomb stops there (default: ${DEFAULT-VALUE}).")
    long maxLayerRatio;

    /** @throws IllegalArgumentException a sentence naming the flag that is wrong */
    public LayerLimits limits() {
        return new LayerLimits(
                size(maxLayerSize, "--max-layer-size"),
                size(maxImageSize, "--max-image-size"),
                size(maxLayerUnpackedSize, "--max-layer-unpacked-size"),
                maxLayerEntries,
                maxLayerRatio);
    }

    private static long size(String text, String flag) {
        try {
            return Units.parseSize(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }
}
