/** Building blocks for backend authors: the shared input checks, callback guards and the pinned-message rule. */
package io.agentmemory.core.backend;
