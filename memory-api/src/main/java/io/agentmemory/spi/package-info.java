/**
 * The service provider interface: what a plugin author implements to add a backend or a decorator. No type here
 * depends on Guice or any other library. Parameters and return values are never null.
 */
package io.agentmemory.spi;
