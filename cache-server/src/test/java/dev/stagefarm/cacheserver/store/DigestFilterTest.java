package dev.stagefarm.cacheserver.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DigestFilterTest {

    @Test
    void addedDigestsAreFoundUntilRemovedAndOthersAreNot() {
        DigestFilter filter = new DigestFilter();
        Random random = new Random(1);
        List<byte[]> added = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            byte[] d = new byte[32];
            random.nextBytes(d);
            filter.add(d);
            added.add(d);
        }
        assertThat(added).allMatch(filter::mayContain);
        int falsePositives = 0;
        for (int i = 0; i < 50_000; i++) {
            byte[] d = new byte[32];
            random.nextBytes(d);
            falsePositives += filter.mayContain(d) ? 1 : 0;
        }
        assertThat(falsePositives).isZero();

        // Remove every other one: the rest must stay findable across the holes left behind.
        for (int i = 0; i < added.size(); i += 2) {
            filter.remove(added.get(i));
        }
        for (int i = 0; i < added.size(); i++) {
            assertThat(filter.mayContain(added.get(i))).as("digest %d", i).isEqualTo(i % 2 == 1);
        }
    }
}
