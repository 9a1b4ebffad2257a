package dev.lodestar.epp.files;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.api.inference.InferenceObject;
import dev.lodestar.api.inference.InferenceObjects;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code --inference-objects-file}: InferenceObjective and InferenceModelRewrite objects read from a YAML file
 * instead of the Kubernetes API. The file is read at start (a bad file fails the start, naming the problem)
 * and followed afterwards, as the API would be watched: a valid edit replaces every object, an invalid one
 * is logged and the objects read before stay.
 */
public final class InferenceObjectsFile implements AutoCloseable {
    /** Larger files are refused: a megabyte holds thousands of objects. */
    public static final int MAX_SIZE = 1 << 20;

    private static final System.Logger LOG = System.getLogger(InferenceObjectsFile.class.getName());

    private final FileFollower follower;
    private final Consumer<List<InferenceObject>> apply;
    private volatile Optional<String> lastError = Optional.empty();

    private InferenceObjectsFile(FileFollower follower, Consumer<List<InferenceObject>> apply) {
        this.follower = follower;
        this.apply = apply;
    }

    /**
     * Reads {@code path}, hands its objects to {@code apply}, and keeps doing so on every valid change.
     *
     * @throws InvalidConfigException naming the file and what is wrong with it
     */
    public static InferenceObjectsFile follow(Path path, Duration pollInterval, Consumer<List<InferenceObject>> apply) {
        Objects.requireNonNull(apply, "apply");
        FileFollower follower = new FileFollower("inference-objects-file", path, MAX_SIZE, pollInterval);
        List<InferenceObject> objects;
        try {
            objects = parse(follower.read());
        } catch (IOException e) {
            throw new InvalidConfigException("cannot read --inference-objects-file " + follower.path() + ": "
                    + FileFollower.describe(e), e);
        } catch (InvalidConfigException e) {
            throw new InvalidConfigException("--inference-objects-file " + follower.path() + ": " + e.getMessage(), e);
        }
        apply.accept(objects);
        InferenceObjectsFile file = new InferenceObjectsFile(follower, apply);
        follower.follow(new FileFollower.Listener() {
            @Override
            public void changed(byte[] content) {
                file.reload(content);
            }

            @Override
            public void failed(String problem) {
                file.refuse(problem);
            }
        });
        return file;
    }

    public Path path() {
        return follower.path();
    }

    /** Why the file's current version was not applied, if it was not (missing, unreadable or invalid). */
    public Optional<String> lastError() {
        return lastError;
    }

    @Override
    public void close() {
        follower.close();
    }

    private void reload(byte[] content) {
        List<InferenceObject> objects;
        try {
            objects = parse(content);
        } catch (InvalidConfigException e) {
            refuse(e.getMessage());
            return;
        }
        apply.accept(objects);
        lastError = Optional.empty();
        LOG.log(System.Logger.Level.INFO, "--inference-objects-file {0}: reloaded, {1} objects", path(),
                objects.size());
    }

    private void refuse(String problem) {
        lastError = Optional.of(problem);
        LOG.log(System.Logger.Level.WARNING, "--inference-objects-file {0}: {1}; keeping the objects read before",
                path(), problem);
    }

    private static List<InferenceObject> parse(byte[] content) {
        if (content.length > MAX_SIZE) {
            throw new InvalidConfigException("the file is larger than " + MAX_SIZE + " bytes");
        }
        return InferenceObjects.parse(new String(content, StandardCharsets.UTF_8));
    }
}
