package dev.lodestar.controllers.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real Kubernetes control plane for the controllers' {@code *IT} tests: an etcd and a kube-apiserver, as processes
 * on loopback, with no kubelet, scheduler or controller-manager (objects are stored and validated, nothing runs).
 *
 * <p>The binaries are built from their Go modules by {@code hack/install-kube-test-env.sh} and named by the
 * system properties or environment variables {@value #APISERVER_ENV} and {@value #ETCD_ENV} (hack/test.sh sets
 * them). {@link #binaries()} says whether they are there; a test class without them skips, unless
 * {@value #REQUIRED_ENV} is set (hack/test.sh sets it), when it fails.
 *
 * <p>What {@link #start(String)} sets up, in a fresh temporary directory deleted by {@link #close()}:
 * <ul>
 *   <li>etcd with its data dir there, client and peer URLs on free loopback ports, no fsync (tests only);</li>
 *   <li>kube-apiserver on a free port of 127.0.0.1 with a generated self-signed serving certificate (SANs
 *       127.0.0.1, localhost, kubernetes.default.svc...), a generated service-account key pair, a static token
 *       file whose one token is an admin in {@code system:masters}, {@code --authorization-mode=RBAC} (so
 *       {@link #clientAs} clients, by impersonation, see real RBAC decisions), service IPs 10.0.0.0/24, and the
 *       {@code ServiceAccount} admission plugin off (it waits for service accounts that no controller creates);</li>
 *   <li>a wait, bounded, for etcd's /health and then the apiserver's /readyz.</li>
 * </ul>
 * Both processes log to {@code <lodestar.kube.logs or target/kube-logs>/<name>-N-etcd.log} and
 * {@code ...-kube-apiserver.log}; a failed start says which log to read and prints its tail.
 */
public final class KubeApiServer implements AutoCloseable {
    public static final String APISERVER_ENV = "KUBE_APISERVER";
    public static final String ETCD_ENV = "ETCD";
    /** When set, missing binaries fail the tests instead of skipping them. */
    public static final String REQUIRED_ENV = "LODESTAR_REQUIRE_KUBE";
    /** The admin user's name in the token file; it is in {@code system:masters}. */
    public static final String ADMIN_USER = "lodestar-admin";
    public static final String SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";

    private static final Duration ETCD_READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration APISERVER_READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CRD_ESTABLISHED_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** The two binaries. */
    public record Binaries(Path apiserver, Path etcd) {
    }

    private final Path dir;
    private final Path logsDir;
    private final String logPrefix;
    private final String adminToken;
    private final String caPem;
    private final List<Process> processes = new ArrayList<>();
    private final Thread shutdownHook;
    private String url;
    private Path apiserverLog;
    private Path etcdLog;
    private Duration startToReady;
    private List<String> apiserverCommand;
    private Process apiserver;
    private KubernetesClient admin;
    private final List<KubernetesClient> clients = new ArrayList<>();

    private KubeApiServer(String name) throws IOException {
        dir = Files.createTempDirectory("lodestar-kube-");
        logsDir = Path.of(System.getProperty("lodestar.kube.logs", "target/kube-logs")).toAbsolutePath();
        Files.createDirectories(logsDir);
        logPrefix = name + "-" + INSTANCES.incrementAndGet();
        adminToken = HexFormat.of().formatHex(randomBytes(24));
        caPem = writeCredentials();
        shutdownHook = new Thread(this::stopProcessesAndDeleteDir, "kube-api-server-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * The binaries named by the system properties or environment variables {@value #APISERVER_ENV} and
     * {@value #ETCD_ENV}, or empty when either is unset.
     *
     * @throws IllegalStateException when one is set but not an executable file
     */
    public static Optional<Binaries> binaries() {
        String apiserver = setting(APISERVER_ENV);
        String etcd = setting(ETCD_ENV);
        if (apiserver == null || etcd == null) {
            return Optional.empty();
        }
        return Optional.of(new Binaries(executable(APISERVER_ENV, apiserver), executable(ETCD_ENV, etcd)));
    }

    /** Why {@link #binaries()} is empty, for a skip message. */
    public static String missingBinariesReason() {
        return APISERVER_ENV + " and " + ETCD_ENV + " are not both set: the controllers' integration tests need a real"
                + " kube-apiserver and etcd. Run hack/test.sh, or build them with hack/install-kube-test-env.sh and"
                + " export the two lines it prints.";
    }

    /** Whether missing binaries must fail the tests ({@value #REQUIRED_ENV} is set) rather than skip them. */
    public static boolean required() {
        String value = setting(REQUIRED_ENV);
        return value != null && !value.equals("0") && !value.equalsIgnoreCase("false");
    }

    /**
     * For a test class: starts with the binaries of {@link #binaries()} and our CRDs (config/crd) applied; without
     * binaries the class is skipped with the reason, or fails when {@link #required()}.
     */
    public static KubeApiServer startWithOurCrds(String name) {
        Optional<Binaries> found = binaries();
        if (found.isEmpty()) {
            if (required()) {
                throw new IllegalStateException(missingBinariesReason());
            }
            org.junit.jupiter.api.Assumptions.abort(missingBinariesReason());
        }
        KubeApiServer server = start(name, found.get());
        try (java.util.stream.Stream<Path> crds = Files.list(repositoryRoot().resolve("config/crd"))) {
            server.apply(crds.filter(path -> path.toString().endsWith(".yaml"))
                    .filter(path -> !path.getFileName().toString().equals("kustomization.yaml"))
                    .sorted().toArray(Path[]::new));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw new IllegalStateException("cannot apply config/crd: " + e.getMessage(), e);
        }
        return server;
    }

    /** The repository's root, from the module's directory (Maven) or the root itself. */
    public static Path repositoryRoot() {
        return Files.isDirectory(Path.of("..", "config")) ? Path.of("..") : Path.of(".");
    }

    /** Starts etcd and kube-apiserver with the binaries of {@link #binaries()}; {@code name} prefixes the logs. */
    public static KubeApiServer start(String name) {
        Binaries binaries = binaries().orElseThrow(() -> new IllegalStateException(missingBinariesReason()));
        return start(name, binaries);
    }

    public static KubeApiServer start(String name, Binaries binaries) {
        KubeApiServer server;
        try {
            server = new KubeApiServer(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            server.startProcesses(binaries);
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        } catch (Exception e) {
            server.close();
            throw new IllegalStateException("could not start the Kubernetes test control plane: " + e.getMessage(), e);
        }
    }

    /** https://127.0.0.1:PORT */
    public String url() {
        return url;
    }

    /** From the apiserver's start to its first 200 on /readyz. */
    public Duration startToReady() {
        return startToReady;
    }

    public Path apiserverLog() {
        return apiserverLog;
    }

    public Path etcdLog() {
        return etcdLog;
    }

    /** The serving certificate (self-signed, so it is also the CA), PEM. */
    public String caCertPem() {
        return caPem;
    }

    /** A client configuration as the admin (system:masters); a new object each call. */
    public Config adminConfig() {
        return new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withCaCertData(Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII)))
                .withOauthToken(adminToken)
                .withNamespace("default")
                .withRequestTimeout(30_000)
                .withConnectionTimeout(10_000)
                .build();
    }

    /** The admin client (system:masters), closed by {@link #close()}. */
    public synchronized KubernetesClient client() {
        if (admin == null) {
            admin = new KubernetesClientBuilder().withConfig(adminConfig()).build();
        }
        return admin;
    }

    /**
     * A client whose requests are authorized as {@code user} in {@code groups} (and system:authenticated), for RBAC
     * tests: the admin impersonates it, so the apiserver decides by that user's Roles and ClusterRoles only. Closed
     * by {@link #close()}.
     */
    public synchronized KubernetesClient clientAs(String user, String... groups) {
        Config config = adminConfig();
        config.setImpersonateUsername(user);
        config.setImpersonateGroups(groups);
        KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        clients.add(client);
        return client;
    }

    /**
     * Applies (server-side) every object of each YAML file, e.g. our CRDs, and waits until each
     * CustomResourceDefinition among them is Established.
     */
    public List<HasMetadata> apply(Path... yamlFiles) {
        List<HasMetadata> applied = new ArrayList<>();
        for (Path file : yamlFiles) {
            try (InputStream in = Files.newInputStream(file)) {
                applied.addAll(applyObjects(in));
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + file, e);
            }
        }
        awaitEstablished(applied);
        return applied;
    }

    /** {@link #apply(Path...)} for YAML text (one or more documents). */
    public List<HasMetadata> applyYaml(String yaml) {
        List<HasMetadata> applied = applyObjects(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
        awaitEstablished(applied);
        return applied;
    }

    private List<HasMetadata> applyObjects(InputStream yaml) {
        List<HasMetadata> applied = new ArrayList<>();
        for (HasMetadata object : client().load(yaml).items()) {
            applied.add(client().resource(object).fieldManager("lodestar-tests").forceConflicts().serverSideApply());
        }
        return applied;
    }

    private void awaitEstablished(List<HasMetadata> objects) {
        for (HasMetadata object : objects) {
            if (object instanceof CustomResourceDefinition crd) {
                client().apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                        .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions()
                                        .stream().anyMatch(k -> k.getType().equals("Established")
                                                && k.getStatus().equals("True")),
                                CRD_ESTABLISHED_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /** Closes the clients, stops kube-apiserver and then etcd (process trees), and deletes the temporary directory. */
    @Override
    public synchronized void close() {
        clients.forEach(KubernetesClient::close);
        clients.clear();
        if (admin != null) {
            admin.close();
            admin = null;
        }
        stopProcessesAndDeleteDir();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private void startProcesses(Binaries binaries) throws Exception {
        int clientPort = freePort();
        int peerPort = freePort();
        int securePort = freePort();
        String etcdUrl = "http://127.0.0.1:" + clientPort;
        etcdLog = logsDir.resolve(logPrefix + "-etcd.log");
        apiserverLog = logsDir.resolve(logPrefix + "-kube-apiserver.log");

        Process etcd = launch(etcdLog, List.of(binaries.etcd().toString(),
                "--name=lodestar-test",
                "--data-dir=" + dir.resolve("etcd"),
                "--listen-client-urls=" + etcdUrl,
                "--advertise-client-urls=" + etcdUrl,
                "--listen-peer-urls=http://127.0.0.1:" + peerPort,
                "--initial-advertise-peer-urls=http://127.0.0.1:" + peerPort,
                "--initial-cluster=lodestar-test=http://127.0.0.1:" + peerPort,
                "--initial-cluster-state=new",
                "--unsafe-no-fsync=true",
                "--log-level=warn"));
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        awaitOk(etcd, etcdLog, "etcd", plain, HttpRequest.newBuilder(URI.create(etcdUrl + "/health")).build(),
                body -> body.contains("\"health\":\"true\""), ETCD_READY_TIMEOUT);

        Instant start = Instant.now();
        apiserverCommand = List.of(binaries.apiserver().toString(),
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + securePort,
                "--etcd-servers=" + etcdUrl,
                "--cert-dir=" + dir.resolve("cert-dir"),
                "--tls-cert-file=" + dir.resolve("serving.crt"),
                "--tls-private-key-file=" + dir.resolve("serving.key"),
                "--token-auth-file=" + dir.resolve("tokens.csv"),
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=" + dir.resolve("sa.pub"),
                "--service-account-signing-key-file=" + dir.resolve("sa.key"),
                "--service-cluster-ip-range=" + SERVICE_CLUSTER_IP_RANGE,
                // No controller-manager creates the "default" service accounts that this plugin waits for.
                "--disable-admission-plugins=ServiceAccount",
                // The "kubernetes" Service's endpoints would be 127.0.0.1, which endpoints may not hold.
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1");
        url = "https://127.0.0.1:" + securePort;
        apiserver = launch(apiserverLog, apiserverCommand);
        awaitApiserverReady();
        startToReady = Duration.between(start, Instant.now());
    }

    private void awaitApiserverReady() throws Exception {
        HttpClient tls = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(trusting(caPem)).build();
        awaitOk(apiserver, apiserverLog, "kube-apiserver", tls, HttpRequest.newBuilder(URI.create(url + "/readyz"))
                        .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(5)).build(),
                body -> true, APISERVER_READY_TIMEOUT);
    }

    /**
     * Stops kube-apiserver (etcd keeps the data) and starts it again on the same address: every client's watch
     * breaks, as when a control-plane node restarts. Returns once it is ready again.
     */
    public synchronized void restartApiServer() {
        try {
            stop(apiserver);
            processes.remove(apiserver);
            apiserver = launch(apiserverLog, apiserverCommand);
            awaitApiserverReady();
        } catch (Exception e) {
            throw new IllegalStateException("restarting kube-apiserver failed: " + e.getMessage() + "\n"
                    + tail(apiserverLog), e);
        }
    }

    private Process launch(Path log, List<String> command) throws IOException {
        Files.writeString(log, "$ " + String.join(" ", command) + "\n");
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        synchronized (this) {
            processes.add(process);
        }
        return process;
    }

    private static void awaitOk(Process process, Path log, String what, HttpClient http, HttpRequest request,
                                java.util.function.Predicate<String> bodyOk, Duration timeout) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        String last = "no answer yet";
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited with status " + process.exitValue()
                        + " before it was ready; its log is " + log + ":\n" + tail(log));
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && bodyOk.test(response.body())) {
                    return;
                }
                last = "HTTP " + response.statusCode() + ": " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(what + " was not ready within " + timeout.toSeconds() + " s (last: "
                + last.strip() + "); its log is " + log + ":\n" + tail(log));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(could not read " + log + ": " + e + ")";
        }
    }

    private synchronized void stopProcessesAndDeleteDir() {
        // Reverse order: the apiserver before its etcd.
        for (int i = processes.size() - 1; i >= 0; i--) {
            stop(processes.get(i));
        }
        processes.clear();
        deleteRecursively(dir);
    }

    private static void stop(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        descendants.forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left for the OS's temp cleaning; nothing runs from it any more
                }
            });
        } catch (IOException e) {
            // same
        }
    }

    // --- credentials -----------------------------------------------------------------------------------------

    /** Writes serving.crt/.key, sa.pub/.key and tokens.csv into dir; returns the serving certificate's PEM. */
    private String writeCredentials() throws IOException {
        try {
            KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
            ec.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair serving = ec.generateKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=lodestar-test-kube-apiserver");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), java.util.Date.from(now.minus(Duration.ofHours(1))),
                    java.util.Date.from(now.plus(Duration.ofDays(2))), subject, serving.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.iPAddress, "10.0.0.1"),
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.dNSName, "kubernetes"),
                    new GeneralName(GeneralName.dNSName, "kubernetes.default"),
                    new GeneralName(GeneralName.dNSName, "kubernetes.default.svc"),
                    new GeneralName(GeneralName.dNSName, "kubernetes.default.svc.cluster.local")}));
            byte[] der = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(serving.getPrivate()))
                    .getEncoded();
            String certPem = pem("CERTIFICATE", der);
            Files.writeString(dir.resolve("serving.crt"), certPem);
            Files.writeString(dir.resolve("serving.key"), pem("PRIVATE KEY", serving.getPrivate().getEncoded()));

            KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
            rsa.initialize(2048);
            KeyPair sa = rsa.generateKeyPair();
            Files.writeString(dir.resolve("sa.pub"), pem("PUBLIC KEY", sa.getPublic().getEncoded()));
            Files.writeString(dir.resolve("sa.key"), pem("PRIVATE KEY", sa.getPrivate().getEncoded()));

            // token,user,uid,"group1,group2"
            Files.writeString(dir.resolve("tokens.csv"),
                    adminToken + "," + ADMIN_USER + "," + ADMIN_USER + ",\"system:masters\"\n");
            return certPem;
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not generate the test certificates", e);
        }
    }

    private static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static SSLContext trusting(String certPem) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)));
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("kube-apiserver", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private static String setting(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            value = System.getenv(name);
        }
        return value == null || value.isBlank() ? null : value;
    }

    private static Path executable(String name, String value) {
        Path path = Path.of(value);
        if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
            throw new IllegalStateException(name + "=" + value + " is not an executable file");
        }
        return path;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }
}
