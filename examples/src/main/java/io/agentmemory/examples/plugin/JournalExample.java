package io.agentmemory.examples.plugin;

import com.google.inject.Guice;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.guice.MemoryModule;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The journal plugin selected by name, as an application sees it: a conversation written through {@link Memories},
 * the memory closed, then opened again through Guice's {@link MemoryModule}; the history is still there. Run with a
 * directory argument to keep the files, or none for a temporary directory. Not thread-safe (a program).
 */
public final class JournalExample {
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    private JournalExample() {}

    public static void main(String[] args) throws IOException {
        String dir = args.length > 0
                ? args[0]
                : Files.createTempDirectory("agentmemory-journal").toString();
        SessionKey chat = SessionKey.of("acme", "alice-chat");
        OUT.println("journal directory: " + dir);

        // 1. Plain builder: the backend is chosen by its name; the plugin is found on the class path.
        try (Memory memory = Memories.builder()
                .backend("journal")
                .set("memory.journal.directory", dir)
                .build()) {
            MemoryStore store = memory.session(chat);
            store.addAll(List.of(
                    Message.system("You are a helpful assistant."),
                    Message.user("My name is Alice"),
                    Message.assistant("Nice to meet you, Alice!")));
            print("written through Memories", store.history());
        }

        // 2. Guice: the same settings as a map; the memory reads the files the first one wrote.
        Memory reopened = Guice.createInjector(
                        MemoryModule.fromConfig(Map.of("memory.backend", "journal", "memory.journal.directory", dir)))
                .getInstance(Memory.class);
        try (reopened) {
            MemoryStore store = reopened.session(chat);
            store.add(Message.user("What's my name?"));
            print("after reopening through MemoryModule", store.history());
            OUT.println("sessions of acme: " + reopened.sessions("acme"));
        }

        try (var files = Files.walk(Path.of(dir))) {
            OUT.println("files:");
            files.filter(Files::isRegularFile)
                    .forEach(f -> OUT.println("  " + Path.of(dir).relativize(f)));
        }
    }

    private static void print(String caption, List<Message> messages) {
        OUT.println(caption + ":");
        for (Message m : messages) {
            OUT.printf("  #%d %-9s %s%n", m.sequence(), m.role(), m.content());
        }
    }
}
