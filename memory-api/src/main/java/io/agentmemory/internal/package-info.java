/** Helpers shared by agentmemory's own modules. Not API: anything here may change in any release. */
package io.agentmemory.internal;
