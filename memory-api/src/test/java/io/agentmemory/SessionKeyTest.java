package io.agentmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SessionKeyTest {
    private static final String SECRET = "SECRET-4711";

    private static InvalidInputException invalidKey(Executable make) {
        InvalidInputException e = catchThrowableOfType(InvalidInputException.class, make::execute);
        assertThat(e).as("an InvalidInputException").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SESSION_KEY);
        assertThat(e.getMessage()).doesNotContain(SECRET);
        return e;
    }

    @Test
    void defaultScopeAndOtherScopes() {
        SessionKey key = SessionKey.of("acme", "s1");
        assertThat(key.scope()).isEmpty();
        assertThat(key.isDefaultScope()).isTrue();
        SessionKey scoped = key.withScope("agent-a");
        assertThat(scoped).isEqualTo(new SessionKey("acme", "s1", "agent-a"));
        assertThat(scoped.isDefaultScope()).isFalse();
        assertThat(scoped.withScope("")).isEqualTo(key);
    }

    @Test
    void missingOrBlankParts() {
        assertThat(invalidKey(() -> SessionKey.of(null, "s")).getMessage()).contains("tenant is missing");
        assertThat(invalidKey(() -> SessionKey.of("t", null)).getMessage()).contains("session id is missing");
        assertThat(invalidKey(() -> new SessionKey("t", "s", null)).getMessage())
                .contains("scope is missing");
        assertThat(invalidKey(() -> SessionKey.of("", "s")).getMessage()).contains("tenant is blank");
        assertThat(invalidKey(() -> SessionKey.of("t", " \u3000")).getMessage()).contains("session id is blank");
        // The scope may be empty (the default scope), and spaces are ordinary characters in it.
        assertThat(new SessionKey("t", "s", " ").scope()).isEqualTo(" ");
    }

    @Test
    void lengthLimitIs256Utf16Characters() {
        String max = "x".repeat(SessionKey.MAX_LENGTH);
        assertThat(new SessionKey(max, max, max).tenant()).hasSize(256);
        assertThat(invalidKey(() -> SessionKey.of(SECRET + "x".repeat(250), "s"))
                        .getMessage())
                .contains("tenant")
                .contains("261")
                .contains("256");
        invalidKey(() -> SessionKey.of("t", max + "x"));
        invalidKey(() -> new SessionKey("t", "s", max + "x"));
        // A supplementary character is two UTF-16 characters.
        String emoji = "\uD83D\uDE00".repeat(128);
        assertThat(SessionKey.of(emoji, "s").tenant()).isEqualTo(emoji);
        invalidKey(() -> SessionKey.of(emoji + "x", "s"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u0000", "\n", "\r", "\t", "\u001B", "\u007F", "\u0085", "\u009F"})
    void controlCharactersAreRejectedInEveryPartWithoutEchoingTheValue(String control) {
        String bad = SECRET + control + SECRET;
        assertThat(invalidKey(() -> SessionKey.of(bad, "s")).getMessage())
                .contains("tenant")
                .contains("control character U+" + String.format("%04X", (int) control.charAt(0)))
                .contains("index 11");
        invalidKey(() -> SessionKey.of("t", bad));
        invalidKey(() -> new SessionKey("t", "s", bad));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\uDE00\uD83D"})
    void unpairedSurrogatesAreRejected(String surrogate) {
        assertThat(invalidKey(() -> SessionKey.of(SECRET + surrogate, "s")).getMessage())
                .contains("unpaired surrogate");
        invalidKey(() -> SessionKey.of("t", surrogate));
        invalidKey(() -> new SessionKey("t", "s", surrogate + SECRET));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "../../etc/passwd",
                "*",
                "{tag}",
                "a:b",
                "\"quoted\"",
                "'single'",
                "a/b\\c",
                "%s%n",
                "DROP TABLE x; --",
                "\uD83D\uDE00",
                "\u202Eevil",
                "spaces inside"
            })
    void hostileButValidTextIsKeptVerbatim(String value) {
        SessionKey key = new SessionKey(value, value, value);
        assertThat(key.tenant()).isEqualTo(value);
        assertThat(key.session()).isEqualTo(value);
        assertThat(key.scope()).isEqualTo(value);
    }

    @Test
    void equalityAndOrder() {
        SessionKey a = SessionKey.of("a", "s");
        assertThat(a).isEqualTo(SessionKey.of("a", "s")).hasSameHashCodeAs(SessionKey.of("a", "s"));
        // No two different keys are equal, however their parts could be concatenated.
        assertThat(SessionKey.of("a:b", "c")).isNotEqualTo(SessionKey.of("a", "b:c"));
        assertThat(new SessionKey("a", "b", "c")).isNotEqualTo(new SessionKey("a", "bc", ""));

        List<SessionKey> keys = new ArrayList<>(List.of(
                new SessionKey("b", "a", ""),
                new SessionKey("a", "b", "z"),
                new SessionKey("a", "b", ""),
                new SessionKey("a", "a", "z")));
        keys.sort(null);
        assertThat(keys)
                .containsExactly(
                        new SessionKey("a", "a", "z"),
                        new SessionKey("a", "b", ""),
                        new SessionKey("a", "b", "z"),
                        new SessionKey("b", "a", ""));
        assertThat(a.compareTo(SessionKey.of("a", "s"))).isZero();
        assertThat(a.compareTo(a.withScope("x"))).isNegative();
        assertThat(a.withScope("x").compareTo(a)).isPositive();
    }

    @Test
    void toStringNamesTheParts() {
        assertThat(SessionKey.of("acme", "s1")).hasToString("SessionKey[tenant=acme, session=s1]");
        assertThat(SessionKey.of("acme", "s1").withScope("x"))
                .hasToString("SessionKey[tenant=acme, session=s1, scope=x]");
    }
}
