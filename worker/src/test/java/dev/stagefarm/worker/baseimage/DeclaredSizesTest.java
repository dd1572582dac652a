package dev.stagefarm.worker.baseimage;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.proto.cache.Layer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A manifest's declared sizes are refused before any download when they are over the limits. */
class DeclaredSizesTest {

    private static final long MIB = 1 << 20;
    private final DeclaredSizes declared = new DeclaredSizes(new LayerLimits(4 * MIB, 10 * MIB, MIB, 10, 10));

    @Test
    void aLayerDeclaredOverTheLayerLimitIsRefusedNamingItAndTheFlag() {
        assertThatThrownBy(() -> declared.checkLayer(layer("sha256:big", 5 * MIB)))
                .isInstanceOf(LayerLimitException.class)
                .hasMessage("layer sha256:big of 127.0.0.1:5000/e2e/huge is 5.0 MiB compressed, more than 4.0 MiB,"
                        + " this worker's --max-layer-size: use another base image, or raise --max-layer-size on the"
                        + " workers if the image is genuine");
    }

    @Test
    void layersEachWithinTheLimitButTooManyTogetherAreRefusedAsAnImage() {
        List<Layer> layers =
                List.of(layer("sha256:a", 4 * MIB), layer("sha256:b", 4 * MIB), layer("sha256:c", 3 * MIB));

        assertThatThrownBy(() -> declared.checkImage("127.0.0.1:5000/e2e/huge", layers))
                .isInstanceOf(LayerLimitException.class)
                .hasMessage("image 127.0.0.1:5000/e2e/huge has 11.0 MiB of layers compressed, more than 10.0 MiB,"
                        + " this worker's --max-image-size: use another base image, or raise --max-image-size on the"
                        + " workers if the image is genuine");
    }

    @Test
    void anImageWithinTheLimitsPasses() {
        assertThatCode(() -> declared.checkImage(
                        "127.0.0.1:5000/e2e/huge",
                        List.of(layer("sha256:a", 4 * MIB), layer("sha256:b", 4 * MIB), layer("sha256:c", 2 * MIB))))
                .doesNotThrowAnyException();
    }

    private static Layer layer(String digest, long size) {
        return Layer.newBuilder()
                .setDigest(digest)
                .setSize(size)
                .setSourceRepository("127.0.0.1:5000/e2e/huge")
                .build();
    }
}
