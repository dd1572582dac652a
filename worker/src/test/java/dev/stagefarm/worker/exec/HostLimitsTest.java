package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class HostLimitsTest {

    @Test
    void readsTheHardOpenFilesLimit() {
        assertThat(HostLimits.hardNofile(List.of(
                        "Limit                     Soft Limit           Hard Limit           Units",
                        "Max open files            1024                 20000                files")))
                .isEqualTo(20000);
        assertThat(HostLimits.hardNofile(
                        List.of("Max open files            unlimited            unlimited            files")))
                .isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void readsEffectiveCapabilities() {
        List<String> withoutSysResource = List.of("CapPrm:\t000001fffeffffff", "CapEff:\t000001fffeffffff");
        assertThat(HostLimits.hasCapability(withoutSysResource, 24)).isFalse();
        assertThat(HostLimits.hasCapability(withoutSysResource, 21)).isTrue(); // CAP_SYS_ADMIN
    }

    @Test
    void neverAsksForMoreThanBuildKitDoes() {
        assertThat(HostLimits.nofile()).isBetween(1024L, HostLimits.WANTED_NOFILE);
    }
}
