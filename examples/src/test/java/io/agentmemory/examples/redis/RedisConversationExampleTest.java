package io.agentmemory.examples.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Message;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis conversation example against a real Redis: the one MEMORY_TEST_REDIS_URL names (CI), else a
 * redis-server started here from the PATH or from the embedded-redis artifact when it is on the test class path.
 * With CI=true an unreachable named server fails the test.
 */
class RedisConversationExampleTest {
    private static Process started;

    @AfterAll
    static void stop() throws InterruptedException {
        if (started != null) {
            started.destroyForcibly();
            started.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theSecondProcessRemembersTheNameFromRedis() throws Exception {
        String url = redisUrl();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        String prefix = "amtest:example:" + UUID.randomUUID() + ":";
        List<Message> history = RedisConversationExample.run(
                RedisConversationExample.SETTINGS,
                Map.of("MEMORY_REDIS_URL", url, "MEMORY_REDIS_KEY_PREFIX", prefix),
                out);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertThat(history)
                .extracting(Message::role)
                .containsExactly("system", "user", "assistant", "user", "assistant");
        assertThat(history.get(4).content()).isEqualTo("Your name is Alice.");
        assertThat(printed).contains("Your name is Alice.").contains("SessionKey[tenant=acme, session=alice-chat]");
    }

    private static String redisUrl() throws Exception {
        String named = System.getenv("MEMORY_TEST_REDIS_URL");
        if (named != null && !named.isBlank()) {
            java.net.URI uri = java.net.URI.create(named);
            if (reachable(uri.getHost(), uri.getPort() == -1 ? 6379 : uri.getPort())) {
                return named;
            }
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError("MEMORY_TEST_REDIS_URL names a Redis that cannot be reached, and CI=true");
            }
        }
        String binary = redisServerBinary();
        int port = freePort();
        Path dir = Files.createDirectories(Path.of("target", "redis-example-" + port));
        started = new ProcessBuilder(
                        binary,
                        "--port",
                        Integer.toString(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        dir.toAbsolutePath().toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile())
                .start();
        for (int i = 0; i < 300 && !reachable("127.0.0.1", port); i++) {
            Thread.sleep(20);
        }
        return "redis://127.0.0.1:" + port;
    }

    /** redis-server on the PATH, else the binary embedded-redis unpacks if that artifact is on the class path. */
    private static String redisServerBinary() throws Exception {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                File f = new File(d, "redis-server");
                if (f.isFile() && f.canExecute()) {
                    return f.getAbsolutePath();
                }
            }
        }
        try {
            Class<?> provider = Class.forName("redis.embedded.core.ExecutableProvider");
            Object jar = provider.getMethod("newJarResourceProvider").invoke(null);
            return ((File) provider.getMethod("get").invoke(jar)).getAbsolutePath();
        } catch (ClassNotFoundException e) {
            throw new AssertionError("no Redis for this test: set MEMORY_TEST_REDIS_URL, put redis-server on the PATH,"
                    + " or add com.github.codemonstur:embedded-redis (test scope) to examples/pom.xml");
        }
    }

    private static boolean reachable(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new java.net.InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
