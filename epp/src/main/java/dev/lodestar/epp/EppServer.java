package dev.lodestar.epp;

import dev.lodestar.api.config.InvalidConfigException;
import dev.lodestar.api.inference.InferenceModelRewrite;
import dev.lodestar.api.inference.InferenceObjective;
import dev.lodestar.epp.admission.LegacyAdmission;
import dev.lodestar.epp.config.ConfigLoader;
import dev.lodestar.epp.config.EppConfig;
import dev.lodestar.epp.config.PluginRegistry;
import dev.lodestar.epp.datalayer.CoreMetricsExtractor;
import dev.lodestar.epp.datalayer.MetricsDataSource;
import dev.lodestar.epp.datalayer.MetricsScraper;
import dev.lodestar.epp.datastore.Datastore;
import dev.lodestar.epp.datastore.EndpointListener;
import dev.lodestar.epp.datastore.EndpointState;
import dev.lodestar.epp.discovery.StaticEndpoints;
import dev.lodestar.epp.extproc.ExtProcService;
import dev.lodestar.epp.files.FileFollower;
import dev.lodestar.epp.files.InferenceObjectsFile;
import dev.lodestar.epp.framework.datalayer.EndpointKey;
import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.grpc.GrpcServers;
import dev.lodestar.epp.health.EppHealth;
import dev.lodestar.epp.health.HealthGrpcService;
import dev.lodestar.epp.health.HealthServer;
import dev.lodestar.epp.metrics.EppMetrics;
import dev.lodestar.epp.metrics.MetricsAuth;
import dev.lodestar.epp.metrics.MetricsDecisionRecorder;
import dev.lodestar.epp.metrics.MetricsRequestRecorder;
import dev.lodestar.epp.metrics.MetricsServer;
import dev.lodestar.epp.metrics.PoolMembers;
import dev.lodestar.epp.plugins.approxprefix.ApproxPrefixCacheProducer;
import dev.lodestar.epp.plugins.concurrencydetector.ConcurrencyDetector;
import dev.lodestar.epp.plugins.disagg.DecisionRecorder;
import dev.lodestar.epp.plugins.inflightload.InFlightLoadProducer;
import dev.lodestar.epp.requestcontrol.Director;
import dev.lodestar.epp.requestcontrol.RequestRecorder;
import dev.lodestar.epp.spi.PoolSource;
import dev.lodestar.epp.spi.PoolSourceProvider;
import dev.lodestar.epp.tls.ServingTls;
import io.helidon.webserver.WebServer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A running EPP: the pool source feeding the datastore, metrics scrapers, the plugins of the
 * configuration, and three listeners (ext_proc, gRPC health, Prometheus metrics). Start with
 * {@link #start(EppOptions)}; {@link #close()} stops everything.
 */
public final class EppServer implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(EppServer.class.getName());

    private final List<AutoCloseable> resources = new ArrayList<>();
    private Datastore datastore;
    private EppConfig config;
    private EppMetrics metrics;
    private WebServer extProc;
    private WebServer health;
    private WebServer metricsServer;

    private EppServer() {
    }

    /**
     * Builds and starts everything the options describe.
     *
     * @throws InvalidConfigException  when the configuration or the flags are not usable
     * @throws IllegalStateException   when a listener cannot start
     */
    public static EppServer start(EppOptions options) {
        EppServer server = new EppServer();
        try {
            server.startAll(options);
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void startAll(EppOptions options) {
        datastore = new Datastore();
        String poolName = options.poolName().isEmpty() ? "standalone" : options.poolName();
        metrics = EppMetrics.builder().pool(poolName, PoolMembers.of(datastore))
                .metricsStaleness(options.metricsStalenessThreshold()).build();
        RequestRecorder recorder = new MetricsRequestRecorder(metrics);

        PluginRegistry registry = PluginRegistry.builtIn();
        registry.replace(MetricsDataSource.TYPE, MetricsDataSource.factory(new MetricsDataSource.Params(
                options.modelServerMetricsScheme(), options.modelServerMetricsPath(),
                options.modelServerMetricsHttpsInsecureSkipVerify())));
        ConfigLoader loader = new ConfigLoader(registry,
                () -> datastore.endpoints().stream().map(EndpointState::metadata).toList(), metrics);
        config = loader.load(ConfigLoader.configText(options.configFile(), options.configText()));
        LOGGER.info(() -> "effective configuration: " + config.effective());
        config.plugins().values().forEach(this::closeLater);
        config.plugins().values().forEach(this::connect);
        List<ApproxPrefixCacheProducer> prefixProducers = config.plugins().values().stream()
                .filter(ApproxPrefixCacheProducer.class::isInstance).map(ApproxPrefixCacheProducer.class::cast).toList();
        metrics.prefixIndexerSize(() -> prefixProducers.stream().mapToLong(ApproxPrefixCacheProducer::indexedBlocks).sum());

        PoolSource source = poolSource(options);
        resources.add(source);
        Optional<java.util.function.BooleanSupplier> leadership = source.leadership();
        if (options.haEnableLeaderElection() && leadership.isEmpty()) {
            throw new InvalidConfigException("--ha-enable-leader-election needs the Kubernetes pool source "
                    + "(--pool-name or --endpoint-selector with the controllers module on the class path)");
        }
        startScrapers(options);
        loadInferenceObjects(options);
        LegacyAdmission admission = new LegacyAdmission(config.saturationDetector());
        Director director = Director.builder()
                .datastore(datastore)
                .parser(config.parser())
                .scheduler(config.scheduler())
                .admission((request, endpoints) -> admission.admit(request, endpoints).ifPresent(refusal -> {
                    throw refusal;
                }))
                .disableSubsetFilter(options.disableEndpointSubsetFilter())
                .prepareDataPlugins(config.prepareData())
                .admissionPlugins(config.admission())
                .preRequestPlugins(config.preRequest())
                .responseHeaderPlugins(config.responseHeader())
                .responseBodyPlugins(config.responseBody())
                .recorder(recorder)
                .timer(metrics)
                .build();

        EppHealth eppHealth = leadership.isPresent()
                ? EppHealth.withLeaderElection(datastore::synced, leadership.get())
                : EppHealth.create(datastore::synced);
        ServingTls tls = ServingTls.create(options.secureServing(), options.certPath(), options.enableCertReload());
        resources.add(tls);
        GrpcServers.Builder grpc = GrpcServers.builder().port(options.grpcPort()).tls(tls.tls())
                .addService(new ExtProcService(director, recorder));
        if (options.healthChecking()) {
            grpc.addService(new HealthGrpcService(eppHealth));
        }
        extProc = started(grpc.build().start(), "ext_proc", options.grpcPort());
        tls.attach(extProc);
        health = started(HealthServer.start("0.0.0.0", options.grpcHealthPort(), eppHealth), "health",
                options.grpcHealthPort());
        metricsServer = started(MetricsServer.start("0.0.0.0", options.metricsPort(), metrics.registry(),
                MetricsAuth.fromFlags(options.metricsEndpointAuth(), options.metricsTokenFile())), "metrics",
                options.metricsPort());

        try {
            source.start(datastore);
        } catch (Exception e) {
            throw new InvalidConfigException("the pool source failed to start: " + e.getMessage(), e);
        }
        LOGGER.info(() -> "EPP serving ext_proc on :" + grpcPort() + (options.secureServing() ? " (TLS)" : "")
                + ", health on :" + healthPort() + ", metrics on :" + metricsPort());
    }

    private void startScrapers(EppOptions options) {
        if (config.dataSources().isEmpty()) {
            LOGGER.info("no data sources configured: model-server metrics are not collected");
        }
        for (EppConfig.DataSource dataSource : config.dataSources()) {
            if (!(dataSource.source() instanceof MetricsDataSource source)) {
                throw new InvalidConfigException("data source '" + dataSource.source().typedName().name()
                        + "' is not a " + MetricsDataSource.TYPE);
            }
            CoreMetricsExtractor extractor = CoreMetricsExtractor.create();
            for (Plugin candidate : dataSource.extractors()) {
                if (!(candidate instanceof CoreMetricsExtractor configured)) {
                    throw new InvalidConfigException("extractor '" + candidate.typedName().name() + "' is not a "
                            + CoreMetricsExtractor.TYPE);
                }
                extractor = configured;
            }
            MetricsScraper scraper = MetricsScraper.builder().source(source).extractor(extractor)
                    .refreshInterval(options.refreshMetricsInterval()).build();
            resources.add(scraper);
            datastore.addListener(scraper);
        }
    }

    private void loadInferenceObjects(EppOptions options) {
        if (options.inferenceObjectsFile().isEmpty()) {
            return;
        }
        resources.add(InferenceObjectsFile.follow(options.inferenceObjectsFile().get(), FileFollower.DEFAULT_POLL_INTERVAL,
                objects -> {
                    datastore.replaceObjectives(objects.stream().filter(InferenceObjective.class::isInstance)
                            .map(InferenceObjective.class::cast).toList());
                    datastore.replaceRewrites(objects.stream().filter(InferenceModelRewrite.class::isInstance)
                            .map(InferenceModelRewrite.class::cast).toList());
                }));
    }

    private PoolSource poolSource(EppOptions options) {
        List<String> chosen = new ArrayList<>();
        PoolSource source = null;
        if (config.discovery().isPresent()) {
            source = config.discovery().get();
            chosen.add("dataLayer.discovery");
        }
        if (options.staticEndpoints().isPresent()) {
            source = StaticEndpoints.parse(options.staticEndpoints().get());
            chosen.add("--static-endpoints");
        }
        if (!options.poolName().isEmpty() || !options.endpointSelector().isEmpty()) {
            Optional<PoolSource> kubernetes = ServiceLoader.load(PoolSourceProvider.class).stream()
                    .map(provider -> provider.get().create(options.flags()))
                    .flatMap(Optional::stream)
                    .findFirst();
            if (kubernetes.isEmpty()) {
                throw new InvalidConfigException((options.poolName().isEmpty() ? "--endpoint-selector" : "--pool-name")
                        + " needs the Kubernetes pool source (the controllers module), which is not on the class path");
            }
            source = kubernetes.get();
            chosen.add("Kubernetes");
        }
        if (chosen.size() > 1) {
            throw new InvalidConfigException("the pool is given more than once: " + chosen + "; use one");
        }
        if (source == null) {
            throw new InvalidConfigException("no pool: give --static-endpoints, configure dataLayer.discovery "
                    + "(e.g. file-discovery), or --pool-name / --endpoint-selector with the Kubernetes module");
        }
        return source;
    }

    private static WebServer started(WebServer server, String what, int port) {
        if (!server.isRunning() || server.port() < 0) {
            server.stop();
            throw new IllegalStateException("cannot listen on port " + port + " for " + what
                    + " (in use? see the log above)");
        }
        return server;
    }

    /** Feeds plugin-held state to the metrics and drops per-endpoint counters when an endpoint leaves. */
    private void connect(Plugin plugin) {
        switch (plugin) {
            case ApproxPrefixCacheProducer producer -> producer.observeMatches(metrics::prefixMatch);
            case InFlightLoadProducer producer -> datastore.addListener(removals(producer::forgetEndpoint));
            case ConcurrencyDetector detector -> datastore.addListener(removals(detector::forget));
            case DecisionRecorder.Source source -> source.recordDecisionsWith(new MetricsDecisionRecorder(metrics));
            default -> {
            }
        }
    }

    private static EndpointListener removals(Consumer<EndpointKey> forget) {
        return new EndpointListener() {
            @Override
            public void endpointAdded(EndpointState endpoint) {
            }

            @Override
            public void endpointRemoved(EndpointState endpoint) {
                forget.accept(endpoint.metadata().key());
            }
        };
    }

    private void closeLater(Plugin plugin) {
        if (plugin instanceof AutoCloseable closeable) {
            resources.add(closeable);
        }
    }

    public Datastore datastore() {
        return datastore;
    }

    public EppConfig config() {
        return config;
    }

    public EppMetrics metrics() {
        return metrics;
    }

    public int grpcPort() {
        return extProc.port();
    }

    public int healthPort() {
        return health.port();
    }

    public int metricsPort() {
        return metricsServer.port();
    }

    @Override
    public void close() {
        for (WebServer server : new WebServer[] {extProc, health, metricsServer}) {
            if (server != null) {
                server.stop();
            }
        }
        for (AutoCloseable resource : resources.reversed()) {
            try {
                resource.close();
            } catch (Exception e) {
                LOGGER.log(Level.WARNING, "failed to close " + resource, e);
            }
        }
        resources.clear();
    }
}
