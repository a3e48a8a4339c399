package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The script arguments' decimal texts are Long.toString's, for every kind of number. */
class NumberTextTest {
    @Test
    void numbersAreWrittenAsLongToStringWritesThem() {
        List<Long> values = new ArrayList<>(List.of(
                0L,
                1L,
                9L,
                10L,
                99L,
                100L,
                4095L,
                4096L,
                4097L,
                65_535L,
                1_764_000_000L,
                -1L,
                -9L,
                -10L,
                -4096L,
                -62_135_596_800L,
                253_402_300_799L,
                Long.MAX_VALUE,
                Long.MIN_VALUE,
                Long.MIN_VALUE + 1));
        Random random = new Random(11);
        for (int i = 0; i < 10_000; i++) {
            values.add(random.nextLong() >> random.nextInt(64));
        }
        for (long v : values) {
            assertThat(new String(RedisMemory.bytes(v), StandardCharsets.US_ASCII))
                    .as("%d", v)
                    .isEqualTo(Long.toString(v));
        }
    }
}
