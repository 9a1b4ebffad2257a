package dev.lodestar.epp.discovery;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.files.FileFollower;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * llm-d Router's {@code file-discovery}: the pool is the list in a YAML or JSON file ({@link EndpointsFile}),
 * read at start; a file that cannot be read or has a bad entry fails the start, naming the problem. With
 * {@code watchFile} the file is re-read when it changes, and the pool follows (adds, removals, updates);
 * a bad file then is logged and the previous endpoints stay.
 *
 * <p>Changes are noticed as {@link FileFollower} does (directory watch, attribute poll as fallback).
 */
public final class FileDiscovery implements Plugin, PoolSource {
    public static final String TYPE = "file-discovery";
    /** Fallback re-check when the file system sends no change events. */
    public static final Duration DEFAULT_POLL_INTERVAL = FileFollower.DEFAULT_POLL_INTERVAL;

    private static final System.Logger LOG = System.getLogger(FileDiscovery.class.getName());

    public static final PluginFactory FACTORY = (name, parameters, handle) -> {
        Params params = PluginParameters.decode(name, parameters, Params.class);
        try {
            if (params.path().isBlank()) {
                throw new IllegalArgumentException("'path' parameter is required");
            }
            return builder().name(name).path(Path.of(params.path())).watchFile(params.watchFile()).build();
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("plugin '" + name + "': " + e.getMessage(), e);
        }
    };

    /**
     * @param path      the endpoints file (required)
     * @param watchFile re-read the file when it changes (default false)
     */
    public record Params(String path, Boolean watchFile) {
        public Params {
            path = path == null ? "" : path;
            watchFile = watchFile != null && watchFile;
        }
    }

    private final TypedName typedName;
    private final Path path;
    private final boolean watchFile;
    private final FileFollower follower;
    private PoolWriter writer;
    private List<EndpointMetadata> applied = List.of();
    private Optional<String> lastError = Optional.empty();

    private FileDiscovery(Builder builder) {
        this.typedName = new TypedName(TYPE, builder.name);
        this.follower = new FileFollower("file-discovery-" + builder.name, builder.path, EndpointsFile.MAX_SIZE,
                builder.pollInterval);
        this.path = follower.path();
        this.watchFile = builder.watchFile;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public TypedName typedName() {
        return typedName;
    }

    public Path path() {
        return path;
    }

    public boolean watchFile() {
        return watchFile;
    }

    /** The endpoints last applied to the pool. */
    public synchronized List<EndpointMetadata> endpoints() {
        return applied;
    }

    /** Why the file's current version was not applied, if it was not (missing, unreadable or invalid). */
    public synchronized Optional<String> lastError() {
        return lastError;
    }

    /**
     * Reads the file and makes its endpoints the pool; with {@code watchFile}, starts following it.
     *
     * @throws InvalidConfigException naming the file and what is wrong with it
     */
    @Override
    public synchronized void start(PoolWriter writer) {
        if (this.writer != null) {
            throw new IllegalStateException(typedName + " is started already");
        }
        Objects.requireNonNull(writer, "writer");
        byte[] content;
        try {
            content = follower.read();
        } catch (IOException e) {
            throw new InvalidConfigException(TYPE + ": cannot read " + path + ": " + FileFollower.describe(e), e);
        }
        try {
            applied = EndpointsFile.parse(content);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(TYPE + ": " + path + ": " + e.getMessage(), e);
        }
        this.writer = writer;
        writer.replaceEndpoints(applied);
        writer.markSynced();
        LOG.log(System.Logger.Level.INFO, "{0}: {1} endpoints from {2}", typedName, applied.size(), path);
        if (watchFile) {
            follower.follow(new FileFollower.Listener() {
                @Override
                public void changed(byte[] next) {
                    apply(next);
                }

                @Override
                public void failed(String problem) {
                    refuse(problem);
                }
            });
        }
    }

    @Override
    public void close() {
        follower.close();
    }

    /** Applies a new content of the file when it is valid. */
    private synchronized void apply(byte[] content) {
        List<EndpointMetadata> next;
        try {
            next = EndpointsFile.parse(content);
        } catch (IllegalArgumentException e) {
            refuse(e.getMessage());
            return;
        }
        lastError = Optional.empty();
        if (next.equals(applied)) {
            return;
        }
        String difference = EndpointsFile.difference(applied, next);
        writer.replaceEndpoints(next);
        applied = next;
        LOG.log(System.Logger.Level.INFO, "{0}: reloaded {1}: {2} endpoints ({3})", typedName, path, next.size(),
                difference);
    }

    private synchronized void refuse(String problem) {
        lastError = Optional.of(problem);
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}: {2}; keeping the {3} endpoints read before", typedName, path,
                problem, applied.size());
    }

    /** Builds a {@link FileDiscovery}; {@code path} is required. */
    public static final class Builder {
        private String name = TYPE;
        private Path path;
        private boolean watchFile;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;

        private Builder() {
        }

        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        public Builder path(Path path) {
            this.path = Objects.requireNonNull(path, "path");
            return this;
        }

        public Builder watchFile(boolean watchFile) {
            this.watchFile = watchFile;
            return this;
        }

        /** How often the file's attributes are checked besides change events (default 1 s). */
        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
            return this;
        }

        public FileDiscovery build() {
            if (path == null) {
                throw new IllegalArgumentException("'path' parameter is required");
            }
            return new FileDiscovery(this);
        }
    }
}
