package dev.lodestar.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The harness itself, without the gateway: simulators as one process each, the EPP following its endpoints
 * file and scraping every server. What the scenario classes rely on when they wait for a stack.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
@ExtendWith(DumpLogsOnFailure.class)
class LocalStackE2E {
    private LocalStack stack;

    @BeforeAll
    void start() {
        stack = LocalStack.builder(LocalStackE2E.class).subnet(29).servers(2).processPerServer().withoutGateway()
                .start();
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void theEppFollowsItsEndpointsFileAndDropsACrashedServer() {
        assertThat(stack.eppMetrics().sum("inference_pool_ready_pods")).isEqualTo(2.0);
        assertThat(stack.serverMetrics(stack.server(0)).has("vllm:num_requests_running")).isTrue();

        stack.setEndpoints(List.of(stack.server(0)));
        stack.awaitReadyPods(1, Duration.ofSeconds(10));

        stack.setEndpoints(stack.servers());
        stack.awaitReadyPods(2, Duration.ofSeconds(10));

        stack.crash(stack.server(1));
        assertThat(stack.server(1).process().isAlive()).isFalse();
        // ready_pods counts endpoints scraped within --metrics-staleness-threshold (2 s).
        stack.awaitReadyPods(1, Duration.ofSeconds(10));
    }
}
