package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A build resolves each image reference once, against the dev registry on 127.0.0.1:5000 (the
 * base images busybox and alpine published there; a missing registry fails these tests).
 */
class OncePerBuildResolverTest {

    private static final String BUSYBOX = "127.0.0.1:5000/library/busybox:latest";
    private static final String ALPINE = "127.0.0.1:5000/library/alpine:latest";

    private final RegistryBaseResolver registry = new RegistryBaseResolver(
            new RegistryClient(RegistryConfig.fromFlags(List.of(), Set.of("127.0.0.1:5000")), CredentialStore.none()));
    private final AtomicInteger asked = new AtomicInteger();
    /** The real resolver, counting the resolutions that reach the registry. */
    private final BaseImageResolver counting = image -> {
        asked.incrementAndGet();
        return registry.resolve(image);
    };

    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stop() {
        threads.close();
    }

    @Test
    void nineStagesFromOneImageAskTheRegistryOnceAndGetTheSameBase() throws Exception {
        var once = new OncePerBuildResolver(counting, threads);
        var go = new CountDownLatch(1);
        List<Future<StageBase>> stages = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            stages.add(threads.submit(() -> {
                go.await();
                return once.resolve(BUSYBOX);
            }));
        }
        go.countDown();
        StageBase first = stages.getFirst().get();
        for (Future<StageBase> stage : stages) {
            assertThat(stage.get().key()).isEqualTo(first.key());
            assertThat(stage.get().description()).isEqualTo(first.description()).contains("@sha256:");
        }
        assertThat(first.image().getLayersCount()).isPositive();
        assertThat(asked).hasValue(1);
    }

    @Test
    void differentImagesAreEachResolvedOnce() throws Exception {
        var once = new OncePerBuildResolver(counting, threads);
        StageBase busybox = once.resolve(BUSYBOX);
        StageBase alpine = once.resolve(ALPINE);
        assertThat(once.resolve(BUSYBOX).key()).isEqualTo(busybox.key());
        assertThat(once.resolve(ALPINE).key()).isEqualTo(alpine.key());
        assertThat(alpine.key()).isNotEqualTo(busybox.key());
        assertThat(asked).hasValue(2);
    }

    @Test
    void aPrefetchedImageIsNotResolvedAgainWhenTheStageAsks() throws Exception {
        var once = new OncePerBuildResolver(counting, threads);
        once.prefetch(BUSYBOX);
        once.prefetch(BUSYBOX);
        StageBase base = once.resolve(BUSYBOX);
        assertThat(base.description()).contains("busybox");
        assertThat(asked).hasValue(1);
    }

    @Test
    void everyStageHearsWhyAnImageCannotBeResolvedFromTheOneAttempt() {
        var once = new OncePerBuildResolver(counting, threads);
        String missing = "127.0.0.1:5000/library/no-such-image-" + System.nanoTime() + ":latest";
        once.prefetch(missing);
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> once.resolve(missing))
                    .isInstanceOf(BaseImageResolver.BaseImageException.class)
                    .hasMessageContaining("no-such-image");
        }
        assertThat(asked).hasValue(1);
    }

    @Test
    void anInvalidNameIsRefusedWithItsReason() {
        var once = new OncePerBuildResolver(counting, threads);
        assertThatThrownBy(() -> once.resolve("Not A Name"))
                .isInstanceOf(BaseImageResolver.BaseImageException.class)
                .hasMessageContaining("invalid image name");
    }
}
