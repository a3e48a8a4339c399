/**
 * The compatibility kit of agentmemory: {@link io.agentmemory.tck.MemoryStoreContract}, the abstract JUnit 5 tests
 * that every backend and decorator passes by subclassing, and the test doubles it builds memories with. Parameters and
 * return values are never null unless a method says otherwise.
 */
package io.agentmemory.tck;
