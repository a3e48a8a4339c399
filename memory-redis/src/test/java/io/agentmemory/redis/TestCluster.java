package io.agentmemory.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import redis.clients.jedis.Jedis;

/**
 * A local Redis Cluster of three masters (no replicas) started by the tests: three {@link RedisProcess}es in cluster
 * mode on free ports, each given a third of the 16384 slots (CLUSTER ADDSLOTS) and introduced to the others (CLUSTER
 * MEET), which is what {@code redis-cli --cluster create ... --cluster-replicas 0} does; ready when every node
 * reports cluster_state:ok and knows all three. Works with the redis-server on the PATH or embedded-redis's 6.2
 * binary, and needs no redis-cli. May speak TLS only, between nodes too ({@link #startTls}). Not thread-safe.
 */
final class TestCluster implements AutoCloseable {
    private static TestCluster shared;

    private final List<RedisProcess> nodes;
    /** The certificates of a TLS cluster; null for a plain one. */
    private final TestTls tls;

    private TestCluster(List<RedisProcess> nodes, TestTls tls) {
        this.nodes = nodes;
        this.tls = tls;
    }

    /** The cluster the contract tests share (no persistence), started on first use and stopped when the JVM ends. */
    static synchronized TestCluster shared() {
        if (shared == null) {
            shared = start("cluster", false);
        }
        return shared;
    }

    /**
     * Starts a new cluster.
     *
     * @param persistent appendonly with fsync on every write, so that a node restart keeps every acknowledged write
     */
    static TestCluster start(String name, boolean persistent) {
        return start(name, persistent, null);
    }

    /**
     * Starts a new cluster whose nodes speak TLS only, to clients and to each other ({@code tls-cluster yes}),
     * verifying each other's certificates; clients need no certificate.
     */
    static TestCluster startTls(String name, TestTls tls) {
        return start(name, false, tls);
    }

    private static TestCluster start(String name, boolean persistent, TestTls tls) {
        List<RedisProcess> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                List<String> settings = new ArrayList<>(List.of(
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "5000",
                        "--appendonly", persistent ? "yes" : "no"));
                if (persistent) {
                    settings.addAll(List.of("--appendfsync", "always"));
                }
                if (tls == null) {
                    nodes.add(RedisProcess.start(name + i, settings));
                } else {
                    settings.addAll(List.of(
                            "--tls-cluster",
                            "yes",
                            "--tls-replication",
                            "yes",
                            "--tls-client-cert-file",
                            tls.serverCert.toString(),
                            "--tls-client-key-file",
                            tls.serverKey.toString()));
                    nodes.add(RedisProcess.startTls(name + i, tls, "optional", settings));
                }
            }
            int per = 16384 / 3;
            for (int i = 0; i < 3; i++) {
                int from = i * per;
                int to = i == 2 ? 16383 : (i + 1) * per - 1;
                try (Jedis jedis = nodes.get(i).client()) {
                    jedis.clusterAddSlots(IntStream.rangeClosed(from, to).toArray());
                }
            }
            try (Jedis first = nodes.get(0).client()) {
                for (int i = 1; i < 3; i++) {
                    first.clusterMeet("127.0.0.1", nodes.get(i).port());
                }
            }
            TestCluster cluster = new TestCluster(nodes, tls);
            cluster.awaitOk(Duration.ofSeconds(60));
            return cluster;
        } catch (RuntimeException e) {
            nodes.forEach(RedisProcess::close);
            throw new IllegalStateException("starting a local Redis Cluster failed", e);
        }
    }

    static Jedis jedis(int port) {
        return new Jedis("127.0.0.1", port, 5000);
    }

    List<RedisProcess> nodes() {
        return nodes;
    }

    /** The url of one seed node, as memory.redis.url takes it. */
    String seedUrl() {
        return (tls == null ? "redis://127.0.0.1:" : "rediss://127.0.0.1:")
                + nodes.get(0).port();
    }

    /** Waits until every node says cluster_state:ok and knows three nodes, and their slot maps agree. */
    void awaitOk(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            boolean ok = true;
            for (RedisProcess node : nodes) {
                try (Jedis jedis = node.client()) {
                    String info = jedis.clusterInfo();
                    last = node.port() + ": "
                            + info.lines()
                                    .filter(l -> l.startsWith("cluster_state")
                                            || l.startsWith("cluster_known_nodes")
                                            || l.startsWith("cluster_slots_ok"))
                                    .toList();
                    if (!info.contains("cluster_state:ok")
                            || !info.contains("cluster_known_nodes:3")
                            || !info.contains("cluster_slots_ok:16384")) {
                        ok = false;
                        break;
                    }
                } catch (RuntimeException e) {
                    ok = false;
                    last = node.port() + ": " + e;
                    break;
                }
            }
            if (ok) {
                return;
            }
            RedisProcess.sleep(100);
        }
        throw new IllegalStateException("the cluster did not reach cluster_state:ok within " + timeout + "; " + last);
    }

    @Override
    public void close() {
        nodes.forEach(RedisProcess::close);
    }
}
