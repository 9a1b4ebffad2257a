package dev.lodestar.epp.files;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileFollowerTest {
    @TempDir
    Path directory;

    private final List<FileFollower> followers = new ArrayList<>();
    private final LinkedBlockingQueue<String> reports = new LinkedBlockingQueue<>();

    @AfterEach
    void closeAll() {
        followers.forEach(FileFollower::close);
    }

    private FileFollower follower(Path file, Duration poll) {
        FileFollower follower = new FileFollower("test-follower", file, 64, poll);
        followers.add(follower);
        return follower;
    }

    private void follow(FileFollower follower) {
        follower.follow(new FileFollower.Listener() {
            @Override
            public void changed(byte[] content) {
                reports.add("changed: " + new String(content, StandardCharsets.UTF_8));
            }

            @Override
            public void failed(String problem) {
                reports.add("failed: " + problem);
            }
        });
    }

    private String nextReport() throws InterruptedException {
        String report = reports.poll(10, TimeUnit.SECONDS);
        assertThat(report).as("a report within 10 s").isNotNull();
        return report;
    }

    private void replace(Path file, String content) throws IOException {
        Path temporary = Files.writeString(directory.resolve(".tmp"), content);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void readsTheFileAndReportsEachNewContentOnce() throws Exception {
        Path file = Files.writeString(directory.resolve("objects.yaml"), "one");
        FileFollower follower = follower(file, Duration.ofSeconds(1));
        assertThat(follower.read()).asString(StandardCharsets.UTF_8).isEqualTo("one");
        follow(follower);

        replace(file, "two");
        assertThat(nextReport()).isEqualTo("changed: two");

        // Same bytes again (new inode, new time): not a change.
        replace(file, "two");
        Files.writeString(file, "three");
        assertThat(nextReport()).isEqualTo("changed: three");
    }

    @Test
    void aMissingFileIsReportedAndItsReturnIsAChangeEvenWithTheOldContent() throws Exception {
        Path file = Files.writeString(directory.resolve("objects.yaml"), "same");
        FileFollower follower = follower(file, Duration.ofSeconds(1));
        follower.read();
        follow(follower);

        Files.delete(file);
        assertThat(nextReport()).isEqualTo("failed: the file is missing");

        replace(file, "same");
        assertThat(nextReport()).isEqualTo("changed: same");
    }

    @Test
    void pollingAloneNoticesChangesWhenThereIsNoWatch() throws Exception {
        Path file = Files.writeString(directory.resolve("objects.yaml"), "one");
        FileFollower follower = follower(file, Duration.ofMillis(20));
        follower.read();
        follow(follower);

        Files.writeString(file, "two, longer");
        assertThat(nextReport()).isEqualTo("changed: two, longer");
    }

    @Test
    void readsOneByteOverTheLimitSoReadersCanRefuseLargeFiles() throws Exception {
        Path file = Files.writeString(directory.resolve("big"), "x".repeat(1000));
        assertThat(follower(file, Duration.ofSeconds(1)).read()).hasSize(65);
    }

    @Test
    void aFileThatIsNotThereCannotBeRead() {
        FileFollower follower = follower(directory.resolve("absent"), Duration.ofSeconds(1));
        assertThatThrownBy(follower::read).isInstanceOf(NoSuchFileException.class)
                .satisfies(e -> assertThat(FileFollower.describe((Exception) e)).isEqualTo("no such file"));
    }

    @Test
    void followsOnceAndStopsWhenClosed() throws Exception {
        Path file = Files.writeString(directory.resolve("objects.yaml"), "one");
        FileFollower follower = follower(file, Duration.ofMillis(20));
        follower.read();
        follow(follower);
        assertThatThrownBy(() -> follow(follower)).isInstanceOf(IllegalStateException.class);

        follower.close();
        Files.writeString(file, "after close");
        assertThat(reports.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void rejectsNonsenseSettings() {
        Path file = directory.resolve("f");
        assertThatThrownBy(() -> new FileFollower("f", file, 0, Duration.ofSeconds(1)))
                .hasMessageContaining("maxBytes");
        assertThatThrownBy(() -> new FileFollower("f", file, 10, Duration.ZERO))
                .hasMessageContaining("poll interval");
    }
}
