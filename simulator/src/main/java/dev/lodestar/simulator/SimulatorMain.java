package dev.lodestar.simulator;

import io.helidon.logging.common.LogConfig;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Command-line entry point: starts one simulated server, or a fleet, and runs until interrupted.
 */
public final class SimulatorMain {
    private SimulatorMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        FleetConfigLoader.Loaded loaded;
        try {
            loaded = FleetConfigLoader.load(args);
        } catch (IllegalArgumentException e) {
            System.err.println("simulator: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (loaded.help().isPresent()) {
            System.out.print(loaded.help().get());
            return;
        }
        LogConfig.configureRuntime();
        Fleet fleet;
        try {
            fleet = Fleet.start(loaded.servers());
        } catch (RuntimeException e) {
            System.err.println("simulator: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            fleet.close();
            stopped.countDown();
        }, "simulator-shutdown"));
        describe(fleet.servers());
        stopped.await();
    }

    private static void describe(List<SimulatedServer> servers) {
        for (SimulatedServer server : servers) {
            SimulatorConfig config = server.config();
            System.out.printf("simulator %s serving %s on %s (max-num-seqs=%d, kv-cache-size=%d x %d, mode=%s%s)%n",
                    config.podName(), String.join(",", config.servedModelNames()), server.baseUrl(),
                    config.maxNumSeqs(), config.kvCacheSize(), config.blockSize(),
                    config.mode().name().toLowerCase(java.util.Locale.ROOT),
                    config.loraModules().isEmpty() ? "" : ", lora=" + config.loraModules().stream()
                            .map(SimulatorConfig.LoraModule::name).toList());
            config.kvTransfer().ifPresent(kv -> System.out.printf(
                    "simulator %s kv-transfer engine %s, side channel %s:%d (%d blocks x %d bytes)%n",
                    config.podName(), kv.engineId(), kv.sideChannelHost(),
                    server.kvTransferSideChannelPort().orElse(kv.sideChannelPort()), kv.numBlocks(),
                    kv.blockBytes()));
        }
        System.out.flush();
    }
}
