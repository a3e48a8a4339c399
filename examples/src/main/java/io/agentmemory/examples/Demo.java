package io.agentmemory.examples;

/**
 * Runs every memory example in turn on the in-memory backend. The README's first command runs this.
 */
public final class Demo {
    private Demo() {}

    public static void main(String[] args) {
        Out.title("agentmemory demo: every memory pattern, on the in-memory backend");
        ConversationExample.main(args);
        SharedMemoryExample.main(args);
        ScopedMemoryExample.main(args);
        TokenLimitedExample.main(args);
        SlidingWindowExample.main(args);
        OverflowExample.main(args);
        ContextWindowExample.main(args);
        Out.line("");
        Out.line("Done.");
    }
}
