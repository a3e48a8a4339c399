package io.agentmemory.redis;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.embedded.core.ExecutableProvider;

/**
 * A redis-server process started by a test, on a free port, with its own directory under {@code target/}: the
 * binary on the PATH, or else the one the embedded-redis artifact unpacks (Redis 6.2). Stopped by its process handle
 * (its pid), never by name; a shutdown hook stops it if the test run ends first. Restartable with the same
 * settings and directory, so data persisted with appendonly survives. May be TLS-only, with {@link TestTls}'s
 * certificates. Not thread-safe.
 */
final class RedisProcess implements AutoCloseable {
    private static volatile String binary;

    private final int port;
    private final Path dir;
    private final List<String> settings;
    /** The certificates of a TLS-only server; null for a plain one. */
    private final TestTls tls;

    private Process process;
    private final Thread hook;

    private RedisProcess(int port, Path dir, List<String> settings, TestTls tls) {
        this.port = port;
        this.dir = dir;
        this.settings = List.copyOf(settings);
        this.tls = tls;
        this.hook = new Thread(this::kill, "stop redis-server " + port);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Starts a server on a free port with {@code settings} (pairs like "--appendonly", "yes") added to the defaults
     * (loopback only, no RDB snapshots).
     */
    static RedisProcess start(String name, List<String> settings) {
        return start(name, null, null, settings);
    }

    /**
     * Starts a TLS-only server (no plain port) on a free port with {@code tls}'s server certificate, clients verified
     * against its CA as {@code authClients} says (no, optional, yes), and {@code settings} added.
     */
    static RedisProcess startTls(String name, TestTls tls, String authClients, List<String> settings) {
        return start(name, tls, authClients, settings);
    }

    private static RedisProcess start(String name, TestTls tls, String authClients, List<String> settings) {
        int port = freePort();
        Path dir = Path.of("target", "redis-servers", name + "-" + port).toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> all = new ArrayList<>();
        if (tls != null) {
            all.addAll(tls.serverSettings(port, authClients));
        }
        all.addAll(settings);
        RedisProcess p = new RedisProcess(port, dir, all, tls);
        p.launch();
        return p;
    }

    /** A client of this server (over TLS with the test CA and client certificate, for a TLS server). */
    Jedis client() {
        return client(port, tls);
    }

    static Jedis client(int port, TestTls tls) {
        return tls == null
                ? new Jedis("127.0.0.1", port, 5000)
                : new Jedis(
                        new HostAndPort("127.0.0.1", port), tls.clientConfig().build());
    }

    int port() {
        return port;
    }

    Path dir() {
        return dir;
    }

    /** The redis-server to run: the one on the PATH, else embedded-redis's. */
    static String binary() {
        String b = binary;
        if (b == null) {
            // -Dagentmemory.test.redis-server=embedded tries the fallback on a machine that has redis-server.
            b = "embedded".equals(System.getProperty("agentmemory.test.redis-server")) ? null : onPath("redis-server");
            if (b == null) {
                try {
                    b = ExecutableProvider.newJarResourceProvider().get().getAbsolutePath();
                } catch (IOException e) {
                    throw new UncheckedIOException("unpacking embedded-redis's redis-server failed", e);
                }
            }
            binary = b;
        }
        return b;
    }

    private static String onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String d : path.split(File.pathSeparator)) {
            File f = new File(d, name);
            if (f.isFile() && f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return null;
    }

    private void launch() {
        List<String> command = new ArrayList<>(List.of(
                binary(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                dir.resolve("redis.log").toString()));
        command.addAll(settings);
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + command.get(0) + " failed", e);
        }
        awaitPing(Duration.ofSeconds(30));
    }

    /** Waits until the server answers PING (it answers LOADING while it reads its append-only file). */
    private void awaitPing(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server on port " + port + " exited with " + process.exitValue()
                        + "; see " + dir.resolve("redis.log"));
            }
            try (Jedis jedis = client()) {
                settings.stream()
                        .filter(s -> s.equals("--requirepass"))
                        .findAny()
                        .ifPresent(s -> {
                            jedis.auth(settings.get(settings.indexOf("--requirepass") + 1));
                        });
                if ("PONG".equals(jedis.ping())) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            sleep(50);
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer within " + timeout, last);
    }

    /** Kills the server at once (SIGKILL: no shutdown save), as a crash would. */
    void kill() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Starts the server again with the same port, settings and directory. */
    void restart() {
        kill();
        launch();
    }

    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down already
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A port that is free, with port + 10000 (a cluster node's bus port) free as well, outside 7000-7002. */
    static int freePort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20000, 30000);
            if (bindable(port) && bindable(port + 10000)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port pair found in 20000-40000");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "RedisProcess[port=" + port + ", dir=" + dir + "]";
    }
}
