/**
 * A third-party-style storage backend: the {@code journal} plugin keeps each session as an append-only JSON-lines
 * file. It shows what a plugin author writes ({@link io.agentmemory.examples.plugin.JournalPlugin}, a
 * {@code META-INF/services} entry, a {@link io.agentmemory.Memory}) and is selected by name only:
 * {@code memory.backend=journal}, {@code memory.journal.directory=/var/lib/agent/memory}. See
 * {@code examples/PLUGIN-GUIDE.md}. Parameters and return values are never null.
 */
package io.agentmemory.examples.plugin;
