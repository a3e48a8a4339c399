package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.json.MessageJson;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import io.agentmemory.tck.TckTokenCounter;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How messages lie in PostgreSQL: the body is the message's {@link MessageJson} text, NUL as its JSON escape; the
 * metadata column holds the filter form, NUL escaped; filters on values that only differ by NUL or the escape
 * character tell them apart; timestamps at the ends of the supported range survive and filter right; ids too large
 * for the indexes together with their session key are invalid input that writes nothing.
 */
class PostgresStorageTest {
    private static TestPostgres.Database database;
    private static Memory memory;

    @BeforeAll
    static void open() {
        database = TestPostgres.createDatabase("storage");
        memory = JdbcMemory.open(
                JdbcSettings.builder().url(database.url()).poolSize(2).build(),
                new MemoryContext(
                        new MutableClock(Instant.parse("2030-01-01T00:00:00Z")),
                        new TckTokenCounter(),
                        Retention.none(),
                        EvictionListener.NONE));
    }

    @AfterAll
    static void close() {
        memory.close();
        database.close();
    }

    @Test
    void theBodyIsTheMessageJsonBytesAndTheMetadataColumnEscapesNul() throws Exception {
        SessionKey key = SessionKey.of("storage", "nul");
        Message m = Message.builder(Message.ASSISTANT, "a\u0000b\u0001c")
                .metadata("k\u0000", "v\u0000\u0001")
                .toolCalls(List.of(new ToolCall("call\u00e9", "t", "{\"a\":\"\u0000\"}")))
                .build();
        Message stored = memory.session(key).add(m);
        assertThat(memory.session(key).history()).containsExactly(stored);
        try (Connection c = database.connect();
                PreparedStatement ps = c.prepareStatement("SELECT body, meta::text, tokens, token_counter, role,"
                        + " call_ids::text FROM agentmemory_messages WHERE tenant = ? AND session_id = ?")) {
            ps.setString(1, key.tenant());
            ps.setString(2, key.session());
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                String body = rs.getString(1);
                assertThat(body)
                        .isEqualTo(MessageJson.toJson(m))
                        .doesNotContain("\u0000")
                        .contains("a\\u0000b");
                assertThat(MessageJson.fromJson(body)).isEqualTo(m);
                // jsonb prints control characters as JSON escapes: U+0001 shows as \u0001
                assertThat(rs.getString(2)).isEqualTo("{\"k\\u00010\": \"v\\u00010\\u0001\\u0001\"}");
                assertThat(rs.getInt(3))
                        .isEqualTo(stored.tokenCount().orElseThrow().tokens());
                assertThat(rs.getString(4)).isEqualTo(TckTokenCounter.ID);
                assertThat(rs.getString(5)).isEqualTo(Message.ASSISTANT);
                assertThat(rs.getString(6)).isEqualTo("{call\u00e9}");
            }
        }
    }

    @Test
    void metadataFiltersTellNulFromItsEscape() {
        MemoryStore store = memory.session(SessionKey.of("storage", "filters"));
        Message nul = store.add(
                Message.builder(Message.USER, "1").metadata("v", "a\u0000").build());
        Message escape = store.add(
                Message.builder(Message.USER, "2").metadata("v", "a\u00010").build());
        Message plain =
                store.add(Message.builder(Message.USER, "3").metadata("v", "a0").build());
        Message keyNul = store.add(Message.builder(Message.USER, "4")
                .metadata("\u0000", List.of("\u0000"))
                .build());
        assertThat(store.history(HistoryQuery.builder().metadata("v", "a\u0000").build()))
                .containsExactly(nul);
        assertThat(store.history(
                        HistoryQuery.builder().metadata("v", "a\u00010").build()))
                .containsExactly(escape);
        assertThat(store.history(HistoryQuery.builder().metadata("v", "a0").build()))
                .containsExactly(plain);
        assertThat(store.history(HistoryQuery.builder()
                        .metadata("\u0000", List.of("\u0000"))
                        .build()))
                .containsExactly(keyNul);
        assertThat(store.history(HistoryQuery.builder()
                        .metadata("\u0000", List.of("\u00010"))
                        .build()))
                .isEmpty();
    }

    @Test
    void largeNumbersFilterByValue() {
        MemoryStore store = memory.session(SessionKey.of("storage", "numbers"));
        BigInteger big = new BigInteger("123456789012345678901234567890");
        Message a = store.add(Message.builder(Message.USER, "a")
                .metadata("big", big)
                .metadata("huge", 1.0e300)
                .metadata("tiny", 4.9e-324)
                .build());
        Message b = store.add(Message.builder(Message.USER, "b")
                .metadata("big", big.add(BigInteger.ONE))
                .metadata("huge", 1.0e299)
                .metadata("tiny", 1.0e-323)
                .build());
        assertThat(store.history(HistoryQuery.builder().metadata("big", big).build()))
                .containsExactly(a);
        assertThat(store.history(
                        HistoryQuery.builder().metadata("huge", 1.0e299).build()))
                .containsExactly(b);
        assertThat(store.history(
                        HistoryQuery.builder().metadata("tiny", 4.9e-324).build()))
                .containsExactly(a);
        assertThat(store.history(HistoryQuery.builder()
                        .metadata(Map.of("big", big, "huge", 1.0e300))
                        .build()))
                .containsExactly(a);
    }

    @Test
    void timestampsAtTheEndsOfTheRangeRoundTripAndFilter() {
        MemoryStore store = memory.session(SessionKey.of("storage", "range"));
        Instant first = Instant.parse("0001-01-01T00:00:00Z");
        Instant last = Instant.parse("9999-12-31T23:59:59.999999Z");
        Message old =
                store.add(Message.builder(Message.USER, "old").timestamp(first).build());
        Message late =
                store.add(Message.builder(Message.USER, "late").timestamp(last).build());
        Message bc = store.add(Message.builder(Message.USER, "1582")
                .timestamp(Instant.parse("1582-10-10T12:00:00.000001Z"))
                .build());
        assertThat(store.history()).containsExactly(old, late, bc);
        assertThat(store.history(HistoryQuery.builder().to(first).build())).containsExactly(old);
        assertThat(store.history(HistoryQuery.builder().from(last).build())).containsExactly(late);
        assertThat(store.history(
                        HistoryQuery.builder().from(Instant.MIN).to(Instant.MAX).build()))
                .containsExactly(old, late, bc);
        assertThat(store.history(HistoryQuery.builder()
                        .between(Instant.parse("1582-10-10T12:00:00Z"), Instant.parse("1582-10-10T12:00:00.000001Z"))
                        .build()))
                .containsExactly(bc);
        assertThat(store.history(HistoryQuery.builder()
                        .from(Instant.parse("1582-10-10T12:00:00.0000011Z"))
                        .to(Instant.parse("2000-01-01T00:00:00Z"))
                        .build()))
                .isEmpty();
    }

    /** {@code n} random characters of the CJK block: three UTF-8 bytes each, and not compressible. */
    private static String cjk(Random random, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) (0x4e00 + random.nextInt(0x5000)));
        }
        return sb.toString();
    }

    @Test
    void idsTooLargeForTheIndexesWithTheirKeyAreInvalidInputAndWriteNothing() {
        Random random = new Random(7);
        // Every part as long as allowed, 768 bytes of UTF-8 each: a message id or tool call id of the same kind
        // makes its index entry larger than PostgreSQL's 2,704 bytes.
        SessionKey key = new SessionKey(cjk(random, 256), cjk(random, 256), cjk(random, 256));
        MemoryStore store = memory.session(key);
        String secret = "content-" + cjk(random, 8);
        InvalidInputException longId = catchThrowableOfType(
                InvalidInputException.class,
                () -> store.add(Message.builder(Message.USER, secret)
                        .id(cjk(random, Message.MAX_ID_LENGTH))
                        .build()));
        assertThat(longId).as("a message id too large for the id index").isNotNull();
        assertThat(longId.code()).isEqualTo(ErrorCode.INVALID_MESSAGE);
        assertThat(longId.code().retryable()).isFalse();
        assertThat(longId.getMessage()).contains("2,704 bytes").doesNotContain(secret);
        assertThat(store.count()).isZero();
        assertThat(memory.sessions(key.tenant())).isEmpty();

        Message first = store.add(Message.user("short ids fit"));
        String call = cjk(random, 256);
        List<Message> batch = List.of(
                Message.assistant(secret, List.of(new ToolCall("c1", "t", "{}"))),
                Message.tool("c1", secret),
                Message.assistant(secret, List.of(new ToolCall(call, "t", "{}"))),
                Message.tool(call, secret),
                Message.user(secret));
        InvalidInputException longCall = catchThrowableOfType(InvalidInputException.class, () -> store.addAll(batch));
        assertThat(longCall)
                .as("a tool call id too large for the tool call index")
                .isNotNull();
        assertThat(longCall.code()).isEqualTo(ErrorCode.INVALID_MESSAGE);
        assertThat(String.valueOf(longCall)).doesNotContain(secret);
        assertThat(store.history()).containsExactly(first);
        assertThat(store.count()).isEqualTo(1);
        InvalidInputException oneCall =
                catchThrowableOfType(InvalidInputException.class, () -> store.add(Message.tool(call, secret)));
        assertThat(oneCall).as("a tool result whose call id is too large").isNotNull();
        assertThat(store.history()).containsExactly(first);
    }
}
