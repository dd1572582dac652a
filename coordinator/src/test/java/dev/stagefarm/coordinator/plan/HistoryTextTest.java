package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Go's fmt renderings that BuildKit's history texts are made of. */
class HistoryTextTest {

    @Test
    void quotedListsAreGoStringSlices() {
        assertThat(HistoryText.goQuotedList(List.of("nginx", "-g", "daemon off;")))
                .isEqualTo("[\"nginx\" \"-g\" \"daemon off;\"]");
        assertThat(HistoryText.goQuotedList(List.of("a\"b", "tab\there", "é")))
                .isEqualTo("[\"a\\\"b\" \"tab\\there\" \"é\"]");
        assertThat(HistoryText.goList(List.of("/bin/bash", "-c"))).isEqualTo("[/bin/bash -c]");
    }

    @Test
    void durationsPrintAsGoDoes() {
        assertThat(HistoryText.goDuration(Duration.ZERO)).isEqualTo("0s");
        assertThat(HistoryText.goDuration(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(HistoryText.goDuration(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(HistoryText.goDuration(Duration.ofHours(1))).isEqualTo("1h0m0s");
        assertThat(HistoryText.goDuration(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(HistoryText.goDuration(Duration.ofMillis(500))).isEqualTo("500ms");
    }

    @Test
    void healthcheckIsTheStructUnderPercentQ() {
        assertThat(HistoryText.healthcheck(
                        List.of("NONE"),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty()))
                .isEqualTo("HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" \"0s\" '\\x00'}");
        assertThat(HistoryText.healthcheck(
                        List.of("CMD", "true"),
                        Optional.of(Duration.ofMinutes(1)),
                        Optional.empty(),
                        Optional.of(Duration.ofSeconds(5)),
                        Optional.empty(),
                        Optional.of(65)))
                .isEqualTo("HEALTHCHECK &{[\"CMD\" \"true\"] \"1m0s\" \"0s\" \"5s\" \"0s\" 'A'}");
    }
}
