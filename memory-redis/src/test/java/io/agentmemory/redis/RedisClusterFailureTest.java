package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Redis Cluster under change, on a cluster of its own with persistence on: a session's slot migrated to another
 * node while a writer and a reader work on it (TRYAGAIN, ASK, then MOVED), and the master holding a session killed
 * and restarted under load. Nothing acknowledged is lost, retries add no duplicate, and the memory carries on.
 */
class RedisClusterFailureTest {
    private static final int MESSAGES = 600;
    private static TestCluster cluster;
    private static final String PREFIX = TestRedis.newPrefix("cluster-failure");

    @BeforeAll
    static void startCluster() {
        cluster = TestCluster.start("failure", true);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Memory open(int seedPort) {
        return RedisMemory.open(
                RedisSettings.fromConfig(Map.of(
                        RedisSettings.URL,
                        "redis://127.0.0.1:" + seedPort,
                        RedisSettings.CLUSTER,
                        "true",
                        RedisSettings.KEY_PREFIX,
                        PREFIX,
                        RedisSettings.TIMEOUT,
                        "2s")),
                new MemoryContext(
                        Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE));
    }

    private static int slotOf(SessionKey key) {
        byte[] d = new RedisKeys(PREFIX).session(key).get(0);
        return JedisClusterCRC16.getSlot(d);
    }

    /** A node of the cluster as CLUSTER NODES describes it. */
    private record Node(String id, int port, List<int[]> slots) {
        boolean owns(int slot) {
            return slots.stream().anyMatch(r -> r[0] <= slot && slot <= r[1]);
        }
    }

    private static List<Node> nodes() {
        try (Jedis jedis = TestCluster.jedis(cluster.nodes().get(0).port())) {
            List<Node> nodes = new ArrayList<>();
            for (String line : jedis.clusterNodes().split("\n")) {
                String[] f = line.strip().split(" ");
                if (f.length < 8) {
                    continue;
                }
                String address = f[1].substring(0, f[1].indexOf('@'));
                int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
                List<int[]> slots = new ArrayList<>();
                for (int i = 8; i < f.length; i++) {
                    if (f[i].startsWith("[")) {
                        continue;
                    }
                    String[] range = f[i].split("-");
                    int from = Integer.parseInt(range[0]);
                    slots.add(new int[] {from, range.length == 1 ? from : Integer.parseInt(range[1])});
                }
                nodes.add(new Node(f[0], port, slots));
            }
            return nodes;
        }
    }

    private static Node owner(int slot) {
        return nodes().stream().filter(n -> n.owns(slot)).findFirst().orElseThrow();
    }

    @Test
    void aSlotMigratedUnderLoadLosesNothingAndTheMemoryFollowsIt() throws Exception {
        SessionKey key = SessionKey.of("acme", "migrating {slot} *");
        int slot = slotOf(key);
        Node source = owner(slot);
        Node target = nodes().stream()
                .filter(n -> !n.id().equals(source.id()))
                .findFirst()
                .orElseThrow();
        Retrying retrying = new Retrying("no secret here");
        try (Memory memory = open(source.port())) {
            MemoryStore store = memory.session(key);
            AtomicInteger written = new AtomicInteger();
            AtomicBoolean writing = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<List<Message>> writer = pool.submit(() -> {
                    List<Message> mine = new ArrayList<>();
                    for (int n = 0; n < MESSAGES; n++) {
                        Message m = Message.builder(Message.USER, "message " + n)
                                .id("m-" + n)
                                .build();
                        mine.add(retrying.call(() -> store.add(m)));
                        written.incrementAndGet();
                    }
                    writing.set(false);
                    return mine;
                });
                Future<Integer> reader = pool.submit(() -> {
                    int reads = 0;
                    while (writing.get()) {
                        List<Message> newest = retrying.call(() -> store.history(HistoryQuery.newest(20)));
                        for (int i = 1; i < newest.size(); i++) {
                            assertThat(newest.get(i).sequence())
                                    .isEqualTo(newest.get(i - 1).sequence() + 1);
                        }
                        reads++;
                    }
                    return reads;
                });
                while (written.get() < MESSAGES / 3) {
                    RedisProcess.sleep(5);
                }
                migrate(slot, source, target);
                List<Message> acknowledged = writer.get();
                assertThat(reader.get()).isPositive();

                List<Message> history = store.history();
                assertThat(history).containsExactlyElementsOf(acknowledged);
                for (int i = 0; i < history.size(); i++) {
                    assertThat(history.get(i).sequence()).isEqualTo(i + 1);
                }
            } finally {
                pool.shutdownNow();
            }
        }
        assertThat(owner(slot).id()).isEqualTo(target.id());
        try (Jedis jedis = TestCluster.jedis(target.port())) {
            assertThat(jedis.exists(new RedisKeys(PREFIX).session(key).get(0))).isTrue();
        }
        // A new client seeded with the old owner only is sent on by MOVED.
        try (Memory fresh = open(source.port())) {
            assertThat(fresh.session(key).count()).isEqualTo(MESSAGES);
            assertThat(fresh.session(key).add(Message.user("after")).sequence()).isEqualTo(MESSAGES + 1);
            assertThat(fresh.sessions("acme")).contains(key);
        }
    }

    /** What redis-cli --cluster reshard does for one slot, moving the keys one by one to widen the window. */
    private static void migrate(int slot, Node source, Node target) {
        try (Jedis from = TestCluster.jedis(source.port());
                Jedis to = TestCluster.jedis(target.port())) {
            to.clusterSetSlotImporting(slot, source.id());
            from.clusterSetSlotMigrating(slot, target.id());
            while (true) {
                List<String> keys = from.clusterGetKeysInSlot(slot, 100);
                if (keys.isEmpty()) {
                    break;
                }
                for (String k : keys) {
                    from.migrate("127.0.0.1", target.port(), k, 0, 5000);
                    RedisProcess.sleep(20);
                }
            }
            to.clusterSetSlotNode(slot, target.id());
            from.clusterSetSlotNode(slot, target.id());
        }
        for (Node n : nodes()) {
            try (Jedis jedis = TestCluster.jedis(n.port())) {
                jedis.clusterSetSlotNode(slot, target.id());
            }
        }
    }

    @Test
    void aMasterKilledAndRestartedUnderLoadLosesNoAcknowledgedMessage() throws Exception {
        SessionKey key = SessionKey.of("acme", "node restart");
        Node owner = owner(slotOf(key));
        RedisProcess process = cluster.nodes().stream()
                .filter(p -> p.port() == owner.port())
                .findFirst()
                .orElseThrow();
        int seed = cluster.nodes().stream()
                .mapToInt(RedisProcess::port)
                .filter(p -> p != owner.port())
                .findFirst()
                .orElseThrow();
        Retrying retrying = new Retrying("no secret here");
        try (Memory memory = open(seed)) {
            MemoryStore store = memory.session(key);
            AtomicInteger written = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<List<Message>>> writers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    int writer = w;
                    writers.add(pool.submit(() -> {
                        List<Message> mine = new ArrayList<>();
                        for (int n = 0; n < MESSAGES / 2; n++) {
                            Message m = Message.builder(Message.USER, "w" + writer + " " + n)
                                    .id("w" + writer + "-" + n)
                                    .build();
                            mine.add(retrying.call(() -> store.add(m)));
                            written.incrementAndGet();
                        }
                        return mine;
                    }));
                }
                while (written.get() < MESSAGES / 3) {
                    RedisProcess.sleep(5);
                }
                process.kill();
                RedisProcess.sleep(300);
                process.restart();
                List<Message> acknowledged = new ArrayList<>();
                for (Future<List<Message>> f : writers) {
                    acknowledged.addAll(f.get());
                }
                cluster.awaitOk(Duration.ofSeconds(60));

                List<Message> history = retrying.call(store::history);
                assertThat(history).hasSize(MESSAGES).containsExactlyInAnyOrderElementsOf(acknowledged);
                for (int i = 0; i < history.size(); i++) {
                    assertThat(history.get(i).sequence()).isEqualTo(i + 1);
                }
                assertThat(retrying.failures())
                        .as("calls that failed while the node was away")
                        .isPositive();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
