package dev.lodestar.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GatewayMainTest {
    @TempDir
    Path dir;

    @Test
    void invalidConfigurationExitsWith2AndNamesTheProblem() throws Exception {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, "pools: []\nroutes: []\n");
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = new CommandLine(new GatewayMain()).execute("--config", file.toString());
        } finally {
            System.setErr(original);
        }

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("invalid configuration").contains("pools");
    }

    @Test
    void configIsRequired() {
        assertThat(new CommandLine(new GatewayMain()).setErr(new java.io.PrintWriter(new java.io.StringWriter()))
                .execute()).isEqualTo(2);
    }
}
