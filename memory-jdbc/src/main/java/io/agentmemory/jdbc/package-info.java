/** The jdbc backend. */
package io.agentmemory.jdbc;
