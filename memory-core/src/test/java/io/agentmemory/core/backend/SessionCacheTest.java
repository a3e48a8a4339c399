package io.agentmemory.core.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.SessionKey;
import org.junit.jupiter.api.Test;

class SessionCacheTest {
    private static SessionKey key(String session) {
        return SessionKey.of("t", session);
    }

    @Test
    void dropsTheLeastRecentlyReadSessionsPastTheCapacity() {
        SessionCache<String> cache = new SessionCache<>(10);
        cache.put(key("a"), "A", 4);
        cache.put(key("b"), "B", 4);
        assertThat(cache.get(key("a"))).isEqualTo("A"); // a is now the most recently read
        cache.put(key("c"), "C", 4);
        assertThat(cache.get(key("b"))).isNull();
        assertThat(cache.get(key("a"))).isEqualTo("A");
        assertThat(cache.get(key("c"))).isEqualTo("C");
        assertThat(cache.weight()).isEqualTo(8);
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void replacingAnEntryReweighsIt() {
        SessionCache<String> cache = new SessionCache<>(10);
        cache.put(key("a"), "A1", 6);
        cache.put(key("a"), "A2", 9);
        assertThat(cache.weight()).isEqualTo(9);
        assertThat(cache.get(key("a"))).isEqualTo("A2");
        cache.put(key("b"), "B", 3);
        assertThat(cache.get(key("a"))).isNull();
        assertThat(cache.weight()).isEqualTo(3);
    }

    @Test
    void aValueHeavierThanTheCapacityIsNotKeptAndRemovesTheOldOne() {
        SessionCache<String> cache = new SessionCache<>(10);
        cache.put(key("a"), "A", 5);
        cache.put(key("a"), "huge", 11);
        assertThat(cache.get(key("a"))).isNull();
        assertThat(cache.weight()).isZero();
    }

    @Test
    void capacityZeroKeepsNothing() {
        SessionCache<String> cache = new SessionCache<>(0);
        assertThat(cache.enabled()).isFalse();
        cache.put(key("a"), "A", 0);
        assertThat(cache.get(key("a"))).isNull();
        assertThat(cache.size()).isZero();
        assertThatThrownBy(() -> new SessionCache<String>(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void removeForgets() {
        SessionCache<String> cache = new SessionCache<>(10);
        cache.put(key("a"), "A", 5);
        cache.remove(key("a"));
        cache.remove(key("a"));
        assertThat(cache.get(key("a"))).isNull();
        assertThat(cache.weight()).isZero();
    }
}
