/**
 * P/D disaggregation on the decode side: {@code sidecar} (the routing sidecar in front of the decode model
 * server) and {@code transfer} (the KV-block transfer engine over UCX).
 */
package dev.lodestar.kvconnector;
