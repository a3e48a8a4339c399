package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.SessionKey;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.util.JedisClusterCRC16;

/** Keys: one hash slot per session, hostile ids inert inside their tag, no two keys alike. */
class RedisKeysTest {
    private static final List<String> HOSTILE = List.of(
            "{",
            "}",
            "}{",
            "{a}",
            ":",
            "*",
            "?",
            " x ",
            "a b",
            "../",
            "\"",
            "'",
            "\\",
            "${x}",
            "\u202e",
            "\ud83d\ude00",
            "x".repeat(SessionKey.MAX_LENGTH),
            "\ud83d\ude00".repeat(SessionKey.MAX_LENGTH / 2),
            "a.b",
            "a=b",
            "-_");

    @Test
    void everyKeyOfASessionIsInOneSlotAndBracesStayOutOfTheTag() {
        RedisKeys keys = new RedisKeys("prefix:");
        for (String h : HOSTILE) {
            for (SessionKey key :
                    List.of(new SessionKey(h, "s", ""), new SessionKey("t", h, ""), new SessionKey("t", "s", h))) {
                List<byte[]> all = keys.session(key);
                assertThat(all).hasSize(5);
                Set<Integer> slots = new HashSet<>();
                for (byte[] k : all) {
                    String text = new String(k, StandardCharsets.UTF_8);
                    assertThat(text).startsWith("prefix:{");
                    assertThat(text.chars().filter(c -> c == '{').count()).isEqualTo(1);
                    assertThat(text.chars().filter(c -> c == '}').count()).isEqualTo(1);
                    assertThat(text).doesNotContain("*", " ", "\"");
                    slots.add(JedisClusterCRC16.getSlot(k));
                }
                assertThat(slots).as("slots of %s", key).hasSize(1);
                assertThat(RedisKeys.fromIndexMember(key.tenant(), RedisKeys.indexMember(key)))
                        .isEqualTo(key);
            }
        }
    }

    @Test
    void confusableKeysGetDifferentRedisKeys() {
        RedisKeys keys = new RedisKeys("p:");
        Set<String> seen = new HashSet<>();
        List<SessionKey> confusable = List.of(
                new SessionKey("a:b", "c", ""),
                new SessionKey("a", "b:c", ""),
                new SessionKey("a", "b", "c"),
                new SessionKey("a.b", "c", ""),
                new SessionKey("a", "b.c", ""),
                new SessionKey("a", "b", ".c"),
                new SessionKey("a", "b", ""),
                new SessionKey("a", "b", " "),
                new SessionKey("\u00e9", "s", ""),
                new SessionKey("e\u0301", "s", ""));
        for (SessionKey k : confusable) {
            assertThat(seen.add(new String(keys.session(k).get(0), StandardCharsets.UTF_8)))
                    .as("%s", k)
                    .isTrue();
        }
        assertThat(new String(keys.index("a"), StandardCharsets.UTF_8)).isEqualTo("p:{YQ}:sessions");
    }
}
