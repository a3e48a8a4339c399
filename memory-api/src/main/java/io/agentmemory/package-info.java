/**
 * The contract of agentmemory: {@link io.agentmemory.Message}, {@link io.agentmemory.SessionKey},
 * {@link io.agentmemory.HistoryQuery}, {@link io.agentmemory.MemoryStore}, {@link io.agentmemory.Memory}, the
 * retention settings and the {@link io.agentmemory.MemoryException} family.
 *
 * <p>Parameters and return values are never null unless a method says otherwise; absent values are {@code Optional}.
 *
 * <p>Metadata holds JSON values only: {@code String} (well-formed Unicode), {@code Boolean}, numbers (integers are
 * normalized to {@code Long}, or {@code BigInteger} beyond its range, at most 1000 digits; other numbers to finite
 * {@code Double}), {@code List} and {@code Map} with {@code String} keys, nested at most 32 levels. JSON null is not
 * stored: omit the key instead.
 */
package io.agentmemory;
