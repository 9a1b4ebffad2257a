/**
 * Endpoint attributes shared between data producers and the plugins that consume them, keyed as
 * {@code <DataType>/<producer name>} so several producers of one type can coexist.
 */
package dev.lodestar.epp.plugins.attributes;
