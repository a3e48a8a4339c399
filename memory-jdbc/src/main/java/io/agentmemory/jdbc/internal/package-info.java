/** The jdbc backend's internals: dialects, statements, migrations and retention planning. Not API. */
package io.agentmemory.jdbc.internal;
