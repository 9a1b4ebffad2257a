package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.datastore.EndpointListener;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.datalayer.EndpointMetrics;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps every endpoint's metrics fresh: one virtual thread per endpoint fetches its {@code /metrics} every
 * refresh interval, extracts it and swaps the endpoint's metrics for the new immutable snapshot. A failed
 * scrape leaves the previous metrics in place, so they age; consumers judge staleness from
 * {@link EndpointMetrics#updateTime()} ({@link MetricsStaleness}).
 *
 * <p>Register it with {@code Datastore.addListener}: scraping starts when an endpoint joins and stops when
 * it leaves. Errors are logged when they start, change and end, not at every scrape.
 */
public final class MetricsScraper implements EndpointListener, AutoCloseable {
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofMillis(50);

    private static final System.Logger LOG = System.getLogger(MetricsScraper.class.getName());
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final MetricsDataSource source;
    private final CoreMetricsExtractor extractor;
    private final long intervalNanos;
    private final Clock clock;
    private final Map<EndpointKey, ScrapeLoop> loops = new ConcurrentHashMap<>();
    private final Set<ScrapeLoop> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private MetricsScraper(Builder builder) {
        this.source = builder.source == null ? MetricsDataSource.create() : builder.source;
        this.extractor = builder.extractor == null ? CoreMetricsExtractor.create() : builder.extractor;
        if (builder.refreshInterval.isNegative() || builder.refreshInterval.isZero()) {
            throw new IllegalArgumentException("refresh interval must be positive, got " + builder.refreshInterval);
        }
        this.intervalNanos = builder.refreshInterval.toNanos();
        this.clock = builder.clock;
    }

    /** A scraper with upstream's defaults: {@code metrics-data-source}, {@code core-metrics-extractor}, 50 ms. */
    public static MetricsScraper create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void endpointAdded(EndpointState endpoint) {
        if (closed) {
            return;
        }
        EndpointKey key = endpoint.metadata().key();
        ScrapeLoop loop = new ScrapeLoop(endpoint, key);
        ScrapeLoop previous = loops.put(key, loop);
        if (previous != null) {
            previous.stop();
        }
        loop.thread = Thread.ofVirtual().name("metrics-scraper-" + key).unstarted(loop);
        running.add(loop);
        loop.thread.start();
    }

    @Override
    public void endpointRemoved(EndpointState endpoint) {
        EndpointKey key = endpoint.metadata().key();
        ScrapeLoop loop = loops.get(key);
        if (loop != null && loop.endpoint == endpoint && loops.remove(key, loop)) {
            loop.stop();
        }
    }

    /** Endpoints whose scrape thread is still running (a removed endpoint leaves once its thread exits). */
    public Set<EndpointKey> scrapedEndpoints() {
        Set<EndpointKey> keys = new HashSet<>();
        for (ScrapeLoop loop : running) {
            keys.add(loop.key);
        }
        return Set.copyOf(keys);
    }

    /** Stops every scrape thread and waits a moment for them to exit. */
    @Override
    public void close() {
        closed = true;
        for (ScrapeLoop loop : loops.values()) {
            loop.stop();
        }
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        for (ScrapeLoop loop : loops.values()) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    loop.thread.join(Duration.ofNanos(left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        loops.clear();
    }

    private final class ScrapeLoop implements Runnable {
        private final EndpointState endpoint;
        private final EndpointKey key;
        private volatile boolean stopped;
        private volatile Thread thread;
        private String lastError = "";

        ScrapeLoop(EndpointState endpoint, EndpointKey key) {
            this.endpoint = endpoint;
            this.key = key;
        }

        void stop() {
            stopped = true;
            Thread current = thread;
            if (current != null) {
                current.interrupt();
            }
        }

        @Override
        public void run() {
            try (MetricsConnection connection = source.openConnection()) {
                while (!stopped) {
                    long started = System.nanoTime();
                    scrapeOnce(connection);
                    long wakeUp = started + intervalNanos;
                    long wait;
                    while (!stopped && (wait = wakeUp - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(this, wait);
                    }
                }
            } finally {
                running.remove(this);
            }
        }

        private void scrapeOnce(MetricsConnection connection) {
            EndpointMetadata metadata = endpoint.metadata();
            String error;
            try {
                MetricsConnection.Body body = connection.fetch(metadata);
                if (stopped) {
                    return;
                }
                Extraction extraction = extractor.extract(body.bytes(), body.offset(), body.length(), metadata,
                        endpoint.metrics(), clock.instant());
                extraction.metrics().ifPresent(endpoint::updateMetrics);
                error = String.join("; ", extraction.errors());
            } catch (SocketTimeoutException e) {
                error = e.getMessage() + " fetching " + source.target(metadata);
            } catch (IOException e) {
                error = describe(e) + " (" + source.target(metadata) + ")";
            } catch (PrometheusFormatException e) {
                error = "invalid metrics from " + source.target(metadata) + ": " + e.getMessage();
            } catch (RuntimeException e) {
                error = "scrape of " + source.target(metadata) + " failed: " + describe(e);
            }
            if (!error.equals(lastError) && !stopped) {
                if (error.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "metrics of {0} recovered", key);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "metrics of {0}: {1}", key, error);
                }
                lastError = error;
            }
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + message;
    }

    /** Builds a {@link MetricsScraper}; unset parts take upstream's defaults. */
    public static final class Builder {
        private MetricsDataSource source;
        private CoreMetricsExtractor extractor;
        private Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** Where metrics are fetched from; default {@link MetricsDataSource#create()}. */
        public Builder source(MetricsDataSource source) {
            this.source = Objects.requireNonNull(source, "source");
            return this;
        }

        /** How metrics are read; default {@link CoreMetricsExtractor#create()}. */
        public Builder extractor(CoreMetricsExtractor extractor) {
            this.extractor = Objects.requireNonNull(extractor, "extractor");
            return this;
        }

        /** {@code --refresh-metrics-interval}: time between the starts of two scrapes of an endpoint (50 ms). */
        public Builder refreshInterval(Duration refreshInterval) {
            this.refreshInterval = Objects.requireNonNull(refreshInterval, "refreshInterval");
            return this;
        }

        /** The clock that stamps {@link EndpointMetrics#updateTime()}. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public MetricsScraper build() {
            return new MetricsScraper(this);
        }
    }
}
