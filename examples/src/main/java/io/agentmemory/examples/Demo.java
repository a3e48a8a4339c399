package io.agentmemory.examples;

import io.agentmemory.examples.jdbc.PersistentConversationExample;
import java.io.PrintStream;

/**
 * The README's first command: the persistent conversation, then every memory pattern, all on the memory
 * {@link ExampleMemory} describes: by default the embedded H2 file store in {@code ./memory-data}, so a second run
 * remembers what the first was told. {@code -Dmemory.backend=memory} runs it in memory and
 * {@code -Dmemory.jdbc.url=jdbc:postgresql://...} on PostgreSQL. Not thread-safe (a program).
 */
public final class Demo {
    private Demo() {}

    /** Runs the demo; the first argument, if any, is the directory of the H2 file store. */
    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args), Out.stream());
    }

    /** Runs the demo on {@code memories}, printing to {@code out}. */
    static void run(ExampleMemory memories, PrintStream out) {
        Out.printingTo(out, () -> {
            Out.title("agentmemory demo on " + memories.description());
            memories.h2Directory().ifPresent(directory -> Out.line("  data: " + directory));
            Out.line("  other backends: -Dmemory.backend=memory (in memory),"
                    + " -Dmemory.jdbc.url=jdbc:postgresql://... (PostgreSQL)");

            Out.title(
                    memories.persistent()
                            ? "Persistent conversation (run the demo twice: the second run remembers)"
                            : "Persistent conversation (in memory: forgotten when the demo ends)");
            PersistentConversationExample.run(memories.settings(), memories.environment(), out);

            ConversationExample.run(memories);
            SharedMemoryExample.run(memories);
            ScopedMemoryExample.run(memories);
            TokenLimitedExample.run(memories);
            SlidingWindowExample.run(memories);
            OverflowExample.run(memories);
            ContextWindowExample.run(memories);
            Out.line("");
            Out.line("Done.");
        });
    }
}
