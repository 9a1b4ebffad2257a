package dev.lodestar.gateway;

import io.helidon.logging.common.LogConfig;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** Command line: {@code java -jar lodestar-gateway.jar --config gateway.yaml}. */
@CommandLine.Command(name = "lodestar-gateway", mixinStandardHelpOptions = true,
        description = "Dev gateway: an OpenAI-API reverse proxy that asks an Endpoint Picker (ext_proc) where each "
                + "request goes, as Envoy configured by the Gateway API Inference Extension does.")
public final class GatewayMain implements Callable<Integer> {
    @CommandLine.Option(names = "--config", required = true, description = "The gateway's YAML configuration.")
    Path config;

    @CommandLine.Option(names = "--port", description = "Overrides listen.port of the configuration.")
    Integer port;

    public static void main(String[] args) {
        System.exit(new CommandLine(new GatewayMain()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        GatewayConfig loaded;
        try {
            loaded = GatewayConfig.load(config);
            if (port != null) {
                loaded = new GatewayConfig(new GatewayConfig.Listen(loaded.listen().host(), port), loaded.timeouts(),
                        loaded.pools(), loaded.routes());
            }
        } catch (IllegalArgumentException e) {
            System.err.println("lodestar-gateway: invalid configuration " + config + ": " + e.getMessage());
            return 2;
        }
        LogConfig.configureRuntime();
        Gateway gateway;
        try {
            gateway = Gateway.start(loaded);
        } catch (RuntimeException e) {
            System.err.println("lodestar-gateway: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            stopped.countDown();
        }, "gateway-shutdown"));
        System.out.printf("lodestar gateway listening on %s:%d (%d pool(s), %d route(s))%n", loaded.listen().host(),
                gateway.port(), loaded.pools().size(), loaded.routes().size());
        for (GatewayConfig.Pool pool : loaded.pools()) {
            System.out.printf("  pool %s -> EPP %s (%s, %s)%n", pool.name(), pool.endpointPicker().address(),
                    pool.endpointPicker().tls() ? "TLS" : "plaintext", pool.failureMode());
        }
        System.out.flush();
        stopped.await();
        return 0;
    }
}
