package dev.lodestar.epp.files;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.api.inference.InferenceObject;
import dev.lodestar.api.inference.InferenceObjective;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static dev.lodestar.epp.testing.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InferenceObjectsFileTest {
    private static final Duration POLL = Duration.ofMillis(20);

    @TempDir
    Path directory;

    private final AtomicReference<List<InferenceObject>> applied = new AtomicReference<>(List.of());
    private InferenceObjectsFile file;

    @AfterEach
    void close() {
        if (file != null) {
            file.close();
        }
    }

    private static String objective(String name, int priority) {
        return """
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: %s, namespace: default}
                spec: {priority: %d, poolRef: {name: pool}}
                """.formatted(name, priority);
    }

    private List<String> priorities() {
        return applied.get().stream().map(InferenceObjective.class::cast)
                .map(objective -> objective.metadata().name() + "=" + objective.effectivePriority()).toList();
    }

    @Test
    void appliesTheFileAtStartAndEveryValidEditAfter() throws Exception {
        Path path = Files.writeString(directory.resolve("objects.yaml"), objective("chat", 1));
        file = InferenceObjectsFile.follow(path, POLL, applied::set);
        assertThat(priorities()).containsExactly("chat=1");

        Files.writeString(path, objective("chat", 5) + "---\n" + objective("batch", -1));
        await("the edit is applied", () -> priorities().equals(List.of("chat=5", "batch=-1")));
    }

    @Test
    void anInvalidEditKeepsTheObjectsReadBefore() throws Exception {
        Path path = Files.writeString(directory.resolve("objects.yaml"), objective("chat", 1));
        file = InferenceObjectsFile.follow(path, POLL, applied::set);

        Files.writeString(path, objective("chat", 2).replace("priority", "priorty"));
        await("the bad edit is seen", () -> file.lastError().isPresent());
        assertThat(file.lastError().get()).contains("priorty");
        assertThat(priorities()).containsExactly("chat=1");

        Files.delete(path);
        await("the missing file is seen", () -> file.lastError().equals(Optional.of("the file is missing")));
        assertThat(priorities()).containsExactly("chat=1");

        Files.writeString(path, objective("chat", 3));
        await("the valid file after the bad one is applied", () -> priorities().equals(List.of("chat=3")));
        assertThat(file.lastError()).isEmpty();
    }

    @Test
    void aBadFileFailsTheStartNamingTheFileAndTheProblem() throws Exception {
        Path path = Files.writeString(directory.resolve("objects.yaml"), objective("chat", 1).replace("spec", "spek"));
        assertThatThrownBy(() -> InferenceObjectsFile.follow(path, POLL, applied::set))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("--inference-objects-file " + path)
                .hasMessageContaining("spek");
        assertThatThrownBy(() -> InferenceObjectsFile.follow(directory.resolve("absent.yaml"), POLL, applied::set))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("cannot read --inference-objects-file")
                .hasMessageContaining("no such file");
        Path huge = Files.writeString(directory.resolve("huge.yaml"), "#".repeat(InferenceObjectsFile.MAX_SIZE + 1));
        assertThatThrownBy(() -> InferenceObjectsFile.follow(huge, POLL, applied::set))
                .hasMessageContaining("larger than");
        assertThat(applied.get()).isEmpty();
    }
}
