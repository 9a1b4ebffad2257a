package dev.lodestar.epp.files;

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
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Follows one configuration file: {@link #read()} reads it once, {@link #follow(Listener)} then reports every
 * new content (or why the file cannot be read) until {@link #close()}.
 *
 * <p>Changes are noticed by watching the file's directory, so editors' rename-over and Kubernetes ConfigMap
 * symlink swaps are seen too, with a poll of the file's attributes as a fallback for file systems that send
 * no events. A content equal to the last one reported is not reported again.
 */
public final class FileFollower implements AutoCloseable {
    /** Fallback re-check when the file system sends no change events. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    private static final System.Logger LOG = System.getLogger(FileFollower.class.getName());
    /** Events come in bursts (truncate, write, close); the file is read once the burst is over. */
    private static final Duration SETTLE = Duration.ofMillis(50);

    /** What the follower reports. Calls come from the follower's thread, one at a time. */
    public interface Listener {
        /** The file has a new content (at most the follower's size limit plus one byte). */
        void changed(byte[] content);

        /** The file is missing or cannot be read; {@code problem} says which. */
        void failed(String problem);
    }

    private final String name;
    private final Path path;
    private final Duration pollInterval;
    private final int maxBytes;
    private volatile boolean closed;
    private volatile Thread thread;
    private volatile WatchService watchService;
    private Optional<FileState> seenState = Optional.empty();
    private byte[] seenContent = new byte[0];

    /**
     * @param name         names the follower's thread and its log lines
     * @param maxBytes     the largest content a reader accepts; one byte more is read so it can tell
     * @param pollInterval how often the file's attributes are checked besides change events
     */
    public FileFollower(String name, Path path, int maxBytes, Duration pollInterval) {
        this.name = Objects.requireNonNull(name, "name");
        this.path = path.toAbsolutePath().normalize();
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive, got " + pollInterval);
        }
        this.pollInterval = pollInterval;
    }

    public Path path() {
        return path;
    }

    /** Reads the file now; what it returns is the baseline later changes are compared with. */
    public synchronized byte[] read() throws IOException {
        Optional<FileState> state = FileState.of(path);
        byte[] content = readContent();
        seenState = state;
        seenContent = content;
        return content;
    }

    /** Starts reporting changes after the last {@link #read()} to {@code listener}. */
    public synchronized void follow(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        if (thread != null) {
            throw new IllegalStateException(name + " is followed already");
        }
        watchService = register();
        // A platform thread: it holds this object's monitor while reading the file.
        thread = Thread.ofPlatform().daemon().name(name).start(() -> run(listener));
    }

    @Override
    public void close() {
        closed = true;
        WatchService service = watchService;
        if (service != null) {
            closeQuietly(service);
        }
        Thread running = thread;
        if (running != null) {
            running.interrupt();
            try {
                running.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A short description of why reading failed: "no such file" or the exception's message. */
    public static String describe(Exception e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
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
            LOG.log(System.Logger.Level.WARNING, "{0}: cannot watch {1} ({2}); polling every {3} ms", name,
                    directory, describe(e), pollInterval.toMillis());
            return null;
        }
    }

    private void run(Listener listener) {
        try {
            while (!closed) {
                boolean changed = waitForChange();
                if (!closed) {
                    check(changed, listener);
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": stopped following " + path, e);
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
                        name, path.getParent(), pollInterval.toMillis());
                watchService = null;
                closeQuietly(service);
                return true;
            }
            key = service.poll(SETTLE.toNanos(), TimeUnit.NANOSECONDS);
        }
        return true;
    }

    /** Re-reads the file when an event came or its attributes changed; reports a content that is new. */
    private synchronized void check(boolean event, Listener listener) {
        Optional<FileState> state = FileState.of(path);
        if (!event && state.equals(seenState)) {
            return;
        }
        seenState = state;
        if (state.isEmpty()) {
            // Forget the content, so that the file coming back as it was is reported again.
            seenContent = new byte[0];
            listener.failed("the file is missing");
            return;
        }
        byte[] content;
        try {
            content = readContent();
        } catch (IOException e) {
            listener.failed("cannot read it: " + describe(e));
            return;
        }
        if (Arrays.equals(content, seenContent)) {
            return;
        }
        seenContent = content;
        listener.changed(content);
    }

    private byte[] readContent() throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(maxBytes + 1);
        }
    }

    private static void closeQuietly(WatchService service) {
        try {
            service.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the watch service failed", e);
        }
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
}
