package io.agentmemory.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class IdsTest {
    @Test
    void uuidVersion7WithTheRfcVariantAndTheCurrentTime() {
        long before = System.currentTimeMillis();
        String id = Ids.next();
        UUID uuid = UUID.fromString(id);

        assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(uuid.version()).isEqualTo(7);
        assertThat(uuid.variant()).isEqualTo(2);
        assertThat(uuid.toString()).isEqualTo(id);
        long millis = uuid.getMostSignificantBits() >>> 16;
        // The counter may run ahead of the clock by a few milliseconds, never behind it.
        assertThat(millis).isGreaterThanOrEqualTo(before).isLessThan(System.currentTimeMillis() + 1_000);
    }

    @Test
    void monotonicAndUniqueFor100kIdsInALoop() {
        List<String> ids = generate(100_000);
        assertStrictlyIncreasing(ids);
        assertThat(new HashSet<>(ids)).hasSize(ids.size());
        for (String id : ids.subList(0, 1000)) {
            assertThat(UUID.fromString(id).version()).isEqualTo(7);
            assertThat(UUID.fromString(id).variant()).isEqualTo(2);
        }
    }

    @Test
    void monotonicInEachThreadAndUniqueAcrossFourThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<List<String>>> tasks = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                tasks.add(() -> generate(50_000));
            }
            Set<String> all = new HashSet<>();
            for (Future<List<String>> f : pool.invokeAll(tasks)) {
                List<String> ids = f.get();
                assertStrictlyIncreasing(ids);
                all.addAll(ids);
            }
            assertThat(all).hasSize(4 * 50_000);
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> generate(int n) {
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(Ids.next());
        }
        return ids;
    }

    private static void assertStrictlyIncreasing(List<String> ids) {
        for (int i = 1; i < ids.size(); i++) {
            if (ids.get(i - 1).compareTo(ids.get(i)) >= 0) {
                throw new AssertionError("id " + i + " (" + ids.get(i) + ") is not greater than id " + (i - 1) + " ("
                        + ids.get(i - 1) + ")");
            }
        }
    }
}
