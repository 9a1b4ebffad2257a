package dev.lodestar.epp.requestcontrol;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;
import dev.lodestar.epp.framework.requestcontrol.Usage;
import dev.lodestar.epp.framework.scheduling.LlmRequest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The state of one request across its ext_proc stream: what the proxy sent, what the EPP decided, and
 * what it saw of the response. Owned by the stream's handler; not thread-safe.
 */
public final class RequestContext {
    private final Map<String, String> requestHeaders = new LinkedHashMap<>();
    private Optional<List<String>> subsetHint = Optional.empty();
    private String requestId = "";
    private boolean requestIdGenerated;
    private String objectiveKey = "";
    private String modelRewriteHeader = "";
    private String fairnessId = "";
    private long requestReceivedNanos;
    private byte[] requestBody = new byte[0];
    private String incomingModel = "";
    private String targetModel = "";
    private int priority;
    private LlmRequest llmRequest;
    private String destination = "";
    private EndpointMetadata targetEndpoint;
    private final Map<String, String> headersToSet = new LinkedHashMap<>();
    private final Map<String, String> responseHeaders = new LinkedHashMap<>();
    private boolean streamingResponse;
    private Usage usage;
    private long responseBytes;
    private boolean responseComplete;

    /** Request headers as received (lower-case names, pseudo-headers included). */
    public Map<String, String> requestHeaders() {
        return requestHeaders;
    }

    public Optional<List<String>> subsetHint() {
        return subsetHint;
    }

    public void subsetHint(List<String> entries) {
        this.subsetHint = Optional.of(List.copyOf(entries));
    }

    public String requestId() {
        return requestId;
    }

    public void requestId(String requestId, boolean generated) {
        this.requestId = requestId;
        this.requestIdGenerated = generated;
    }

    /** Whether the EPP made the id up (then it is forwarded upstream in the header mutation). */
    public boolean requestIdGenerated() {
        return requestIdGenerated;
    }

    public String objectiveKey() {
        return objectiveKey;
    }

    public void objectiveKey(String objectiveKey) {
        this.objectiveKey = objectiveKey;
    }

    public String modelRewriteHeader() {
        return modelRewriteHeader;
    }

    public void modelRewriteHeader(String modelRewriteHeader) {
        this.modelRewriteHeader = modelRewriteHeader;
    }

    public String fairnessId() {
        return fairnessId;
    }

    public void fairnessId(String fairnessId) {
        this.fairnessId = fairnessId;
    }

    public long requestReceivedNanos() {
        return requestReceivedNanos;
    }

    public void requestReceivedNanos(long nanos) {
        this.requestReceivedNanos = nanos;
    }

    /** The body to send upstream: as received until the EPP re-serializes it. */
    public byte[] requestBody() {
        return requestBody;
    }

    public void requestBody(byte[] body) {
        this.requestBody = body;
    }

    public String incomingModel() {
        return incomingModel;
    }

    public void incomingModel(String incomingModel) {
        this.incomingModel = incomingModel;
    }

    public String targetModel() {
        return targetModel;
    }

    public void targetModel(String targetModel) {
        this.targetModel = targetModel;
    }

    public int priority() {
        return priority;
    }

    public void priority(int priority) {
        this.priority = priority;
    }

    public Optional<LlmRequest> llmRequest() {
        return Optional.ofNullable(llmRequest);
    }

    public void llmRequest(LlmRequest llmRequest) {
        this.llmRequest = llmRequest;
    }

    /** The {@code x-gateway-destination-endpoint} value: comma-separated {@code ip:port} list. */
    public String destination() {
        return destination;
    }

    public Optional<EndpointMetadata> targetEndpoint() {
        return Optional.ofNullable(targetEndpoint);
    }

    public void route(String destination, EndpointMetadata targetEndpoint) {
        this.destination = destination;
        this.targetEndpoint = targetEndpoint;
    }

    /** Extra request headers for the model server, added by pre-request plugins. */
    public Map<String, String> headersToSet() {
        return headersToSet;
    }

    public Map<String, String> responseHeaders() {
        return responseHeaders;
    }

    public boolean streamingResponse() {
        return streamingResponse;
    }

    public void streamingResponse(boolean streaming) {
        this.streamingResponse = streaming;
    }

    public Optional<Usage> usage() {
        return Optional.ofNullable(usage);
    }

    public void usage(Usage usage) {
        this.usage = usage;
    }

    public long responseBytes() {
        return responseBytes;
    }

    public void addResponseBytes(long bytes) {
        this.responseBytes += bytes;
    }

    public boolean responseComplete() {
        return responseComplete;
    }

    public void responseComplete(boolean complete) {
        this.responseComplete = complete;
    }
}
