package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.ImageSpec;
import dev.stagefarm.proto.farm.Job;
import org.junit.jupiter.api.Test;

class WorkKeysTest {

    private static Job job(String buildId, String created, String imageKey) {
        return Job.newBuilder()
                .setJobId(buildId + "/0")
                .setBuildId(buildId)
                .setStageKey("sha256:stage")
                .setImage(ImageSpec.newBuilder()
                        .setKey(imageKey)
                        .addHistory(
                                History.newBuilder().setCreatedBy("RUN make").setCreated(created)))
                .build();
    }

    @Test
    void twoBuildsOfTheSameImagePlannedASecondApartAreTheSameWork() {
        assertThat(WorkKeys.of("team", job("b1", "2026-12-03T20:00:00Z", "image-1")))
                .isEqualTo(WorkKeys.of("team", job("b2", "2026-12-03T20:00:01Z", "image-1")));
    }

    @Test
    void anotherImageAnotherTeamOrAnotherStageIsOtherWork() {
        String key = WorkKeys.of("team", job("b1", "t", "image-1"));
        assertThat(WorkKeys.of("team", job("b1", "t", "image-2"))).isNotEqualTo(key);
        assertThat(WorkKeys.of("other", job("b1", "t", "image-1"))).isNotEqualTo(key);
        assertThat(WorkKeys.of(
                        "team",
                        job("b1", "t", "image-1").toBuilder()
                                .setStageKey("sha256:other")
                                .build()))
                .isNotEqualTo(key);
    }
}
