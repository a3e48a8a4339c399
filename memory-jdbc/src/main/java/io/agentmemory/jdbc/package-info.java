/**
 * The {@code jdbc} backend: conversation memory in PostgreSQL (production) or H2 (embedded), selected by name with
 * {@code memory.backend=jdbc}. {@link io.agentmemory.jdbc.JdbcMemory} is the backend, {@link
 * io.agentmemory.jdbc.JdbcSettings} its settings and {@link io.agentmemory.jdbc.JdbcPlugin} its plugin entry point.
 * Parameters and return values are never null.
 */
package io.agentmemory.jdbc;
