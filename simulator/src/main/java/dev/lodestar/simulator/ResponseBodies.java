package dev.lodestar.simulator;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * JSON bodies of the simulator's responses, in vLLM's shapes. Per-token stream events are written by
 * {@link TokenChunks}; everything else is here.
 */
final class ResponseBodies {
    private final JsonFactory json = new JsonFactory();

    /** A non-streamed completion or chat completion. */
    byte[] completion(ResolvedRequest request, int cachedTokens) {
        return completion(request, cachedTokens, Optional.empty());
    }

    /** A non-streamed answer; a prefill for a remote decoder says where its KV blocks wait, as vLLM does. */
    byte[] completion(ResolvedRequest request, int cachedTokens, Optional<KvTransferRole.RemotePrefill> handoff) {
        return write(g -> {
            g.writeStartObject();
            head(g, request, request.chat() ? "chat.completion" : "text_completion");
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            if (request.chat()) {
                g.writeObjectFieldStart("message");
                g.writeStringField("role", "assistant");
                g.writeStringField("content", request.generated().text());
                g.writeEndObject();
            } else {
                g.writeStringField("text", request.generated().text());
            }
            g.writeNullField("logprobs");
            g.writeStringField("finish_reason", request.generated().finishReason().wireName());
            g.writeNullField("stop_reason");
            g.writeEndObject();
            g.writeEndArray();
            usage(g, request, cachedTokens);
            if (handoff.isPresent()) {
                kvTransferParams(g, handoff.get());
            }
            g.writeEndObject();
        });
    }

    // vLLM NixlConnector's request_finished fields (connector version 2).
    private static void kvTransferParams(JsonGenerator g, KvTransferRole.RemotePrefill handoff) throws IOException {
        g.writeObjectFieldStart("kv_transfer_params");
        g.writeBooleanField("do_remote_prefill", true);
        g.writeBooleanField("do_remote_decode", false);
        g.writeArrayFieldStart("remote_block_ids");
        for (int id : handoff.blockIds()) {
            g.writeNumber(id);
        }
        g.writeEndArray();
        g.writeStringField("remote_engine_id", handoff.engineId());
        g.writeStringField("remote_request_id", handoff.requestId());
        g.writeStringField("remote_host", handoff.host());
        g.writeNumberField("remote_port", handoff.port());
        g.writeNumberField("tp_size", handoff.tpSize());
        g.writeEndObject();
    }

    /** A stream's error event body, {@code {"error":{...}}}, for a failure after the stream began. */
    byte[] streamError(ApiError error) {
        return write(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", error.getMessage());
            g.writeStringField("type", error.type());
            if (error.param().isPresent()) {
                g.writeStringField("param", error.param().get());
            } else {
                g.writeNullField("param");
            }
            g.writeNumberField("code", error.status());
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** The first event of a chat stream: the assistant role with empty content. */
    byte[] roleChunk(ResolvedRequest request) {
        return write(g -> {
            g.writeStartObject();
            head(g, request, "chat.completion.chunk");
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            g.writeObjectFieldStart("delta");
            g.writeStringField("role", "assistant");
            g.writeStringField("content", "");
            g.writeEndObject();
            g.writeNullField("logprobs");
            g.writeNullField("finish_reason");
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** The last event of a stream with {@code stream_options.include_usage}: no choices, the usage. */
    byte[] usageChunk(ResolvedRequest request, int cachedTokens) {
        return write(g -> {
            g.writeStartObject();
            head(g, request, request.chat() ? "chat.completion.chunk" : "text_completion");
            g.writeArrayFieldStart("choices");
            g.writeEndArray();
            usage(g, request, cachedTokens);
            g.writeEndObject();
        });
    }

    /** {@code {"object":"error","message":...,"type":...,"param":...,"code":...}}, as vLLM answers errors. */
    byte[] error(ApiError error) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("object", "error");
            g.writeStringField("message", error.getMessage());
            g.writeStringField("type", error.type());
            if (error.param().isPresent()) {
                g.writeStringField("param", error.param().get());
            } else {
                g.writeNullField("param");
            }
            g.writeNumberField("code", error.status());
            g.writeEndObject();
        });
    }

    /** {@code GET /v1/models}: the base model under each served name, then each LoRA adapter. */
    byte[] models(SimulatorConfig config, long createdSeconds) {
        List<String> names = config.servedModelNames();
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (String name : names) {
                model(g, name, config.model(), null, createdSeconds, config.maxModelLen());
            }
            for (SimulatorConfig.LoraModule module : config.loraModules()) {
                model(g, module.name(), module.path(), names.get(0), createdSeconds, config.maxModelLen());
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static void model(JsonGenerator g, String id, String root, String parent, long created, int maxModelLen)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("id", id);
        g.writeStringField("object", "model");
        g.writeNumberField("created", created);
        g.writeStringField("owned_by", "vllm");
        g.writeStringField("root", root);
        if (parent == null) {
            g.writeNullField("parent");
        } else {
            g.writeStringField("parent", parent);
        }
        g.writeNumberField("max_model_len", maxModelLen);
        g.writeEndObject();
    }

    private static void head(JsonGenerator g, ResolvedRequest request, String object) throws IOException {
        g.writeStringField("id", request.id());
        g.writeStringField("object", object);
        g.writeNumberField("created", request.created());
        g.writeStringField("model", request.model());
    }

    private static void usage(JsonGenerator g, ResolvedRequest request, int cachedTokens) throws IOException {
        int prompt = request.spec().promptTokens().length;
        int completion = request.spec().outputTokens().length;
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", prompt);
        g.writeNumberField("total_tokens", prompt + completion);
        g.writeNumberField("completion_tokens", completion);
        g.writeObjectFieldStart("prompt_tokens_details");
        g.writeNumberField("cached_tokens", cachedTokens);
        g.writeEndObject();
        g.writeEndObject();
    }

    private byte[] write(JsonWriter writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator generator = json.createGenerator(out)) {
            writer.write(generator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @FunctionalInterface
    private interface JsonWriter {
        void write(JsonGenerator generator) throws IOException;
    }
}
