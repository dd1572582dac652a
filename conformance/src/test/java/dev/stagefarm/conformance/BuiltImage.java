package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Instant;

/**
 * What a builder made of a case: the image's root filesystem unpacked on disk, its config
 * ({@code Env}, {@code Cmd}, … as in the image config's {@code config} object), its history
 * (for BuildKit, created_by only), the image's {@code created} time as written ("" where the
 * builder's reader does not show it) and when the build started
 * (files dated after it were written by the build itself).
 */
record BuiltImage(Path rootfs, JsonNode config, JsonNode history, String created, Instant started) {}
