package io.agentmemory.core.scope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.CorePlugin;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.decorator.ForwardingMemory;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScopingMemoryTest {
    private static final String TENANT = "acme";
    private static final String SESSION = "chat";

    @Test
    void aScopeTooLongOnceConfinedIsRejectedNamingTheCallersLengthAndItsLimit() {
        Memory scoped = ScopingMemory.of(InMemoryMemory.builder().build(), "planner");
        String scope = "x".repeat(250);
        InvalidInputException e = catchThrowableOfType(
                InvalidInputException.class,
                () -> scoped.session(new SessionKey(TENANT, SESSION, scope)).add(Message.user("hello")));
        assertThat(e).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SESSION_KEY);
        assertThat(e.getMessage())
                .contains("scope is 250 characters long")
                .contains("at most " + (SessionKey.MAX_LENGTH - "planner:".length()))
                .contains("'planner'")
                .doesNotContain(scope);
        assertThat(catchThrowableOfType(
                        InvalidInputException.class, () -> scoped.delete(new SessionKey(TENANT, SESSION, scope))))
                .hasMessage(e.getMessage());
        // The longest scope that fits is accepted.
        String longest = "y".repeat(SessionKey.MAX_LENGTH - "planner:".length());
        scoped.session(new SessionKey(TENANT, SESSION, longest)).add(Message.user("hello"));
        assertThat(scoped.sessions(TENANT)).containsExactly(new SessionKey(TENANT, SESSION, longest));
    }

    @Test
    void theConfiguredScopeNameIsReadWithoutSurroundingWhiteSpaceLikeEveryOtherSetting() {
        InMemoryMemory backend = InMemoryMemory.builder().build();
        BackendFactory shared = new BackendFactory() {
            @Override
            public String name() {
                return "shared";
            }

            @Override
            public Memory create(Map<String, String> config, MemoryContext context) {
                // The decorated memory must not close the shared backend.
                return new ForwardingMemory(backend) {
                    @Override
                    public void close() {}
                };
            }
        };
        for (String name : List.of("planner", " planner", "planner ", "\tplanner \n")) {
            try (Memory memory = Memories.builder()
                    .plugins(List.of(new CorePlugin()))
                    .backendFactory(shared)
                    .config(Map.of(
                            Memories.BACKEND,
                            "shared",
                            Memories.DECORATORS,
                            ScopingMemory.NAME,
                            "memory.scope.name",
                            name))
                    .build()) {
                memory.session(TENANT, SESSION).add(Message.user("hello"));
            }
        }
        assertThat(backend.sessions(TENANT)).containsExactly(new SessionKey(TENANT, SESSION, "planner"));
        assertThat(backend.session(new SessionKey(TENANT, SESSION, "planner")).count())
                .isEqualTo(4);
    }
}
