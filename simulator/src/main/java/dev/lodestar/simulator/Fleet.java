package dev.lodestar.simulator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Several simulated servers in one process, each with its own address, port, engine and metrics.
 */
public final class Fleet implements AutoCloseable {
    private final ScheduledExecutorService timers;
    private final List<SimulatedServer> servers;

    private Fleet(ScheduledExecutorService timers, List<SimulatedServer> servers) {
        this.timers = timers;
        this.servers = List.copyOf(servers);
    }

    /**
     * Starts one server per configuration. If one fails to start (e.g. its address is taken), those
     * already started are stopped and the error is thrown.
     */
    public static Fleet start(List<SimulatorConfig> configs) {
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform()
                .name("simulator-timers").daemon(true).factory());
        List<SimulatedServer> started = new ArrayList<>();
        try {
            for (SimulatorConfig config : configs) {
                started.add(SimulatedServer.start(config, timers));
            }
        } catch (RuntimeException e) {
            started.forEach(SimulatedServer::close);
            timers.shutdownNow();
            throw e;
        }
        return new Fleet(timers, started);
    }

    public List<SimulatedServer> servers() {
        return servers;
    }

    @Override
    public void close() {
        servers.forEach(SimulatedServer::close);
        timers.shutdownNow();
    }
}
