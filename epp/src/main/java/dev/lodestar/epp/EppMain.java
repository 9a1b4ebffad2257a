package dev.lodestar.epp;

import dev.lodestar.api.config.InvalidConfigException;
import io.helidon.logging.common.LogConfig;

import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Command-line entry point of the EPP: {@code java -jar lodestar-epp.jar [flags]}, {@code --help} lists them. */
public final class EppMain {
    private EppMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        EppOptions options;
        try {
            options = EppOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("epp: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.helpRequested()) {
            System.out.print(EppOptions.usage());
            return;
        }
        LogConfig.configureRuntime();
        configureLogging(options.verbosity());
        EppServer server;
        try {
            server = EppServer.start(options);
        } catch (InvalidConfigException | IllegalArgumentException e) {
            System.err.println("epp: " + e.getMessage());
            System.exit(2);
            return;
        } catch (RuntimeException e) {
            System.err.println("epp: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "epp-shutdown"));
        stopped.await();
    }

    /** {@code --v}: 2 = INFO (default), 3 = verbose (CONFIG), 4 = debug (FINE), 5+ = trace (FINEST). */
    private static void configureLogging(int verbosity) {
        Level level = verbosity <= 2 ? Level.INFO : verbosity == 3 ? Level.CONFIG : verbosity == 4 ? Level.FINE
                : Level.FINEST;
        Logger.getLogger("dev.lodestar").setLevel(level);
        for (java.util.logging.Handler handler : Logger.getLogger("").getHandlers()) {
            if (handler.getLevel().intValue() > level.intValue()) {
                handler.setLevel(level);
            }
        }
    }
}
