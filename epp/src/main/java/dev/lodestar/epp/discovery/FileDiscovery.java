package dev.lodestar.epp.discovery;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.plugin.PluginFactory;
import dev.lodestar.epp.framework.plugin.PluginParameters;
import dev.lodestar.epp.framework.plugin.TypedName;
import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolWriter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * llm-d Router's {@code file-discovery}: the pool is the list in a YAML or JSON file ({@link EndpointsFile}),
 * read at start; a file that cannot be read or has a bad entry fails the start, naming the problem. With
 * {@code watchFile} the file is re-read when it changes, and the pool follows (adds, removals, updates);
 * a bad file then is logged and the previous endpoints stay.
 *
 * <p>Changes are noticed by watching the file's directory, so editors' rename-over and Kubernetes
 * ConfigMap symlink swaps are seen too, with a poll of the file's attributes as a fallback for file
 * systems that send no events.
 */
public final class FileDiscovery implements Plugin, PoolSource {
    public static final String TYPE = "file-discovery";
    /** Fallback re-check when the file system sends no change events. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    private static final System.Logger LOG = System.getLogger(FileDiscovery.class.getName());
    /** Events come in bursts (truncate, write, close); the file is read once the burst is over. */
    private static final Duration SETTLE = Duration.ofMillis(50);

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
    private final Duration pollInterval;
    private volatile boolean closed;
    private volatile Thread watcher;
    private volatile WatchService watchService;
    private PoolWriter writer;
    private List<EndpointMetadata> applied = List.of();
    private Optional<FileState> seenState = Optional.empty();
    private byte[] seenContent = new byte[0];
    private Optional<String> lastError = Optional.empty();

    private FileDiscovery(Builder builder) {
        this.typedName = new TypedName(TYPE, builder.name);
        this.path = builder.path.toAbsolutePath().normalize();
        this.watchFile = builder.watchFile;
        if (builder.pollInterval.isNegative() || builder.pollInterval.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive, got " + builder.pollInterval);
        }
        this.pollInterval = builder.pollInterval;
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
        Optional<FileState> state = FileState.of(path);
        byte[] content;
        try {
            content = read();
        } catch (IOException e) {
            throw new InvalidConfigException(TYPE + ": cannot read " + path + ": " + describe(e), e);
        }
        try {
            applied = EndpointsFile.parse(content);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(TYPE + ": " + path + ": " + e.getMessage(), e);
        }
        seenState = state;
        seenContent = content;
        this.writer = writer;
        writer.replaceEndpoints(applied);
        writer.markSynced();
        LOG.log(System.Logger.Level.INFO, "{0}: {1} endpoints from {2}", typedName, applied.size(), path);
        if (watchFile) {
            watchService = register();
            // A platform thread: it holds this object's monitor while reading the file.
            watcher = Thread.ofPlatform().daemon().name("file-discovery-" + typedName.name()).start(this::follow);
        }
    }

    @Override
    public void close() {
        closed = true;
        WatchService service = watchService;
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing the watch service failed", e);
            }
        }
        Thread thread = watcher;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A watch on the file's directory, or null when the file system cannot watch (polling only then). */
    private WatchService register() {
        Path directory = path.getParent();
        try {
            WatchService service = directory.getFileSystem().newWatchService();
            directory.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
            return service;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: cannot watch {1} ({2}); polling every {3} ms", typedName,
                    directory, describe(e), pollInterval.toMillis());
            return null;
        }
    }

    private void follow() {
        try {
            while (!closed) {
                boolean changed = waitForChange();
                if (!closed) {
                    reload(changed);
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, typedName + ": stopped following " + path, e);
        }
    }

    /** Waits for directory events or the poll interval; true when something in the directory changed. */
    private boolean waitForChange() throws InterruptedException {
        WatchService service = watchService;
        if (service == null) {
            Thread.sleep(pollInterval);
            return false;
        }
        WatchKey key = service.poll(pollInterval.toNanos(), TimeUnit.NANOSECONDS);
        if (key == null) {
            return false;
        }
        while (key != null) {
            key.pollEvents();
            if (!key.reset()) {
                LOG.log(System.Logger.Level.WARNING, "{0}: {1} is no longer watched; polling every {2} ms",
                        typedName, path.getParent(), pollInterval.toMillis());
                watchService = null;
                closeQuietly(service);
                return true;
            }
            key = service.poll(SETTLE.toNanos(), TimeUnit.NANOSECONDS);
        }
        return true;
    }

    /**
     * Re-reads the file when an event came or its attributes changed, and applies it when its content is new
     * and valid.
     */
    private synchronized void reload(boolean event) {
        Optional<FileState> state = FileState.of(path);
        if (!event && state.equals(seenState)) {
            return;
        }
        seenState = state;
        if (state.isEmpty()) {
            seenContent = new byte[0];
            refuse("the file is missing");
            return;
        }
        byte[] content;
        try {
            content = read();
        } catch (IOException e) {
            refuse("cannot read it: " + describe(e));
            return;
        }
        if (Arrays.equals(content, seenContent)) {
            return;
        }
        seenContent = content;
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

    private void refuse(String problem) {
        lastError = Optional.of(problem);
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}: {2}; keeping the {3} endpoints read before", typedName, path,
                problem, applied.size());
    }

    private byte[] read() throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            // One byte over the limit is enough to tell the file is too large.
            return in.readNBytes(EndpointsFile.MAX_SIZE + 1);
        }
    }

    private static void closeQuietly(WatchService service) {
        try {
            service.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the watch service failed", e);
        }
    }

    private static String describe(Exception e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** What identifies a version of the file without reading it (the target's, through symlinks). */
    private record FileState(Object fileKey, long size, long modifiedNanos) {
        static Optional<FileState> of(Path path) {
            try {
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
                return Optional.of(new FileState(String.valueOf(attributes.fileKey()), attributes.size(),
                        attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS)));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
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
