package dev.lodestar.epp.framework.plugin;

/** Every EPP plugin: filters, scorers, pickers, profile handlers, producers, parsers, detectors. */
public interface Plugin {
    TypedName typedName();
}
